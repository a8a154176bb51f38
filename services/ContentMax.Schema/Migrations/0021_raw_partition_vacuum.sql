-- A raw partition is vacuumed once, after its day has ended, not while it fills.
--
-- Raw partitions are append-only. While a day's partition was being written,
-- autovacuum's insert-triggered passes (every 20% of growth) scanned its new
-- pages again and again and summarised their BRIN ranges: 6.5% of the
-- machine's CPU samples in the batched ingestion benchmark, beside a COPY that
-- PostgreSQL's share of the machine bounds. Nothing needs those passes while
-- the day is open:
--   - no row of it is dead but those of an aborted write, and dead rows still
--     start the ordinary (dead-row) autovacuum;
--   - every raw query filters on name and reads the (name, ts) B-tree, so
--     neither an up-to-date visibility map nor summarised BRIN ranges serve any;
--   - ANALYZE still runs on its own thresholds, so the planner keeps its
--     statistics, and anti-wraparound vacuums cannot be turned off.
-- So a raw partition is created with insert-triggered vacuum off, and
-- partition maintenance turns it back on once the partition's day has ended:
-- autovacuum then takes the whole partition in one pass (visibility map,
-- freezing, BRIN summaries), and later back-filled points count as usual.

CREATE FUNCTION raw_partition_vacuum()
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    child record;
    live  boolean;
    off   boolean;
BEGIN
    FOR child IN
        SELECT c.relname, coalesce(c.reloptions, '{}') AS options
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'metrics'::regclass AND c.relname ~ '^metrics_p[0-9]{8}$'
        ORDER BY c.relname
    LOOP
        live := to_date(substring(child.relname FROM '_p([0-9]+)$'), 'YYYYMMDD')::timestamp + interval '1 day' > now() AT TIME ZONE 'UTC';
        off := 'autovacuum_vacuum_insert_threshold=-1' = ANY(child.options);
        IF live AND NOT off THEN
            EXECUTE format('ALTER TABLE %I SET (autovacuum_vacuum_insert_threshold = -1)', child.relname);
            RETURN NEXT 'insert-triggered vacuum off until its day ends: ' || child.relname;
        ELSIF off AND NOT live THEN
            EXECUTE format('ALTER TABLE %I RESET (autovacuum_vacuum_insert_threshold)', child.relname);
            RETURN NEXT 'insert-triggered vacuum on, its day has ended: ' || child.relname;
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION maintain_partitions(raw_keep interval, minute_keep interval, hour_keep interval, ahead interval DEFAULT interval '3 days')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT * FROM maintain_partitions_of('metrics', false, raw_keep, ahead, 'WITH (autovacuum_vacuum_insert_threshold = -1)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_minute', false, minute_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_hour', true, hour_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_tagged_minute', false, minute_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_tagged_hour', true, hour_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM raw_partition_vacuum()
$$;

-- Today's partition and those ahead of it.
SELECT raw_partition_vacuum();
