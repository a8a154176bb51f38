-- Time partitions for the three tiers, so retention drops whole partitions
-- instead of deleting rows one by one:
--   metrics                 raw points     daily partitions    kept 30 days
--   metric_rollups_minute   minute rollups daily partitions    kept 90 days
--   metric_rollups_hour     hour rollups   monthly partitions  kept 2 years
-- (the periods are Retention:* settings of aggregation, which calls
-- maintain_partitions every hour). A partitioned table's unique keys must
-- contain its partition key, so a raw point is now unique on (id, ts): a
-- redelivery repeats both and stays a no-op.

ALTER TABLE metrics RENAME TO metrics_unpartitioned;
ALTER INDEX metrics_pkey RENAME TO metrics_unpartitioned_pkey;
ALTER INDEX metrics_name_ts RENAME TO metrics_unpartitioned_name_ts;
ALTER INDEX metrics_ts RENAME TO metrics_unpartitioned_ts;

CREATE TABLE metrics (
    id          uuid             NOT NULL,
    name        text             NOT NULL,
    value       double precision NOT NULL,
    ts          timestamptz      NOT NULL,
    url         text,
    user_agent  text,
    tags        jsonb,
    received_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);

CREATE INDEX metrics_name_ts ON metrics (name, ts);
CREATE INDEX metrics_ts ON metrics (ts);

ALTER TABLE metric_rollups_minute RENAME TO metric_rollups_minute_unpartitioned;
ALTER INDEX metric_rollups_minute_pkey RENAME TO metric_rollups_minute_unpartitioned_pkey;
CREATE TABLE metric_rollups_minute (
    bucket timestamptz      NOT NULL,
    name   text             NOT NULL,
    count  bigint           NOT NULL,
    sum    double precision NOT NULL,
    min    double precision NOT NULL,
    max    double precision NOT NULL,
    sketch sketch           NOT NULL,
    shard  smallint         NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, name, shard)
) PARTITION BY RANGE (bucket);

ALTER TABLE metric_rollups_hour RENAME TO metric_rollups_hour_unpartitioned;
ALTER INDEX metric_rollups_hour_pkey RENAME TO metric_rollups_hour_unpartitioned_pkey;
CREATE TABLE metric_rollups_hour (LIKE metric_rollups_minute INCLUDING DEFAULTS, PRIMARY KEY (bucket, name, shard))
    PARTITION BY RANGE (bucket);

-- Creates the partitions from `keep` ago to `ahead` from now (all in UTC) that
-- do not exist yet, and drops those entirely older than `keep`. Returns what
-- it did. Daily partitions are named {table}_pYYYYMMDD, monthly ones {table}_pYYYYMM.
CREATE FUNCTION maintain_partitions_of(parent text, monthly boolean, keep interval, ahead interval)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    step    interval := CASE WHEN monthly THEN interval '1 month' ELSE interval '1 day' END;
    fmt     text := CASE WHEN monthly THEN 'YYYYMM' ELSE 'YYYYMMDD' END;
    today   timestamp := date_trunc(CASE WHEN monthly THEN 'month' ELSE 'day' END, now() AT TIME ZONE 'UTC');
    oldest  timestamp := date_trunc(CASE WHEN monthly THEN 'month' ELSE 'day' END, (now() - keep) AT TIME ZONE 'UTC');
    start   timestamp;
    child   record;
    part    text;
BEGIN
    start := oldest;
    WHILE start <= today + ahead LOOP
        part := parent || '_p' || to_char(start, fmt);
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                part, parent, start AT TIME ZONE 'UTC', (start + step) AT TIME ZONE 'UTC');
            RETURN NEXT 'created ' || part;
        END IF;
        start := start + step;
    END LOOP;

    FOR child IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass AND c.relname ~ ('^' || parent || '_p[0-9]+$')
    LOOP
        -- A partition goes once all of it is older than `keep`.
        IF to_date(substring(child.relname FROM '_p([0-9]+)$'), fmt)::timestamp + step <= oldest THEN
            EXECUTE format('DROP TABLE %I', child.relname);
            RETURN NEXT 'dropped ' || child.relname;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION maintain_partitions(raw_keep interval, minute_keep interval, hour_keep interval, ahead interval DEFAULT interval '3 days')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT * FROM maintain_partitions_of('metrics', false, raw_keep, ahead)
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_minute', false, minute_keep, ahead)
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_hour', true, hour_keep, ahead)
$$;

-- Partitions for the default retention, widened to hold every row there is.
SELECT maintain_partitions(
    greatest(interval '30 days', now() - coalesce((SELECT min(ts) FROM metrics_unpartitioned), now())),
    greatest(interval '90 days', now() - coalesce((SELECT min(bucket) FROM metric_rollups_minute_unpartitioned), now())),
    greatest(interval '2 years', now() - coalesce((SELECT min(bucket) FROM metric_rollups_hour_unpartitioned), now())));

INSERT INTO metrics SELECT id, name, value, ts, url, user_agent, tags, received_at FROM metrics_unpartitioned
WHERE ts < (now() AT TIME ZONE 'UTC')::date + 4;
INSERT INTO metric_rollups_minute (bucket, name, count, sum, min, max, sketch, shard)
SELECT bucket, name, count, sum, min, max, sketch, shard FROM metric_rollups_minute_unpartitioned
WHERE bucket < (now() AT TIME ZONE 'UTC')::date + 4;
INSERT INTO metric_rollups_hour (bucket, name, count, sum, min, max, sketch, shard)
SELECT bucket, name, count, sum, min, max, sketch, shard FROM metric_rollups_hour_unpartitioned
WHERE bucket < (now() AT TIME ZONE 'UTC')::date + 4;

DROP TABLE metrics_unpartitioned;
DROP TABLE metric_rollups_minute_unpartitioned;
DROP TABLE metric_rollups_hour_unpartitioned;
