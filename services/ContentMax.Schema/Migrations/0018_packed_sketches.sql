-- Packed sketches on the closed tagged rollup rows the explorer reads in bulk
-- (quarters, hours, days). Postgres sends an int4[]/int8[] array element by
-- element (about 30 ns each, with an allocation per element): the 13,440 hour
-- rows of a 7-day chart carry 3.8 million sketch buckets, which took the
-- database 260-310 ms to send as arrays and 60-70 ms packed: a bytea is sent
-- as one copy. The packed form is (key int4, count int8) per bucket,
-- big-endian; readers merge buckets by key and need no order. The arrays stay
-- the form every rollup is built and merged from.
--
-- sketch_packed is filled once a row is closed (the compactor packs the rows it
-- has built or merged, pack_tagged_sketches below), and is NULL while the row
-- may still change; a reader uses it when present and the arrays otherwise. Any
-- later update of a packed row that does not pack it again (a late point, a
-- rebuilt quarter or day) clears it, by trigger, so it can never disagree with
-- the arrays.
ALTER TABLE metric_rollups_tagged_quarter ADD COLUMN sketch_packed bytea;
ALTER TABLE metric_rollups_tagged_hour ADD COLUMN sketch_packed bytea;
ALTER TABLE metric_rollups_tagged_day ADD COLUMN sketch_packed bytea;

CREATE FUNCTION sketch_pack(s sketch) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(int4send(u.k) || int8send(u.c), ''::bytea), ''::bytea)
    FROM unnest(s.keys, s.counts) AS u(k, c)
$$;

CREATE FUNCTION sketch_unpack_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sketch_packed IS NOT DISTINCT FROM OLD.sketch_packed THEN
        NEW.sketch_packed := NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Fires only for rows already packed: live writes to open buckets never pay for it.
CREATE TRIGGER sketch_unpack BEFORE UPDATE ON metric_rollups_tagged_quarter
    FOR EACH ROW WHEN (OLD.sketch_packed IS NOT NULL) EXECUTE FUNCTION sketch_unpack_on_update();
CREATE TRIGGER sketch_unpack BEFORE UPDATE ON metric_rollups_tagged_hour
    FOR EACH ROW WHEN (OLD.sketch_packed IS NOT NULL) EXECUTE FUNCTION sketch_unpack_on_update();
CREATE TRIGGER sketch_unpack BEFORE UPDATE ON metric_rollups_tagged_day
    FOR EACH ROW WHEN (OLD.sketch_packed IS NOT NULL) EXECUTE FUNCTION sketch_unpack_on_update();

-- Packs the unpacked quarter and day rows from from_ts on (both are built only
-- once closed) and the unpacked hour rows in [from_ts, hours_closed_before).
-- Rows a live write holds are skipped, and packed on a later pass. Returns how
-- many rows it packed.
CREATE FUNCTION pack_tagged_sketches(from_ts timestamptz, hours_closed_before timestamptz)
RETURNS integer LANGUAGE sql AS $$
    WITH quarters AS (
        SELECT name, bucket, dims FROM metric_rollups_tagged_quarter
        WHERE bucket >= from_ts AND sketch_packed IS NULL
        ORDER BY name, bucket, dims FOR UPDATE SKIP LOCKED
    ), packed_quarters AS (
        UPDATE metric_rollups_tagged_quarter t SET sketch_packed = sketch_pack(t.sketch)
        FROM quarters q WHERE t.name = q.name AND t.bucket = q.bucket AND t.dims = q.dims
        RETURNING 1
    ), hours AS (
        SELECT name, bucket, dims, shard FROM metric_rollups_tagged_hour
        WHERE bucket >= from_ts AND bucket < hours_closed_before AND sketch_packed IS NULL
        ORDER BY name, bucket, dims, shard FOR UPDATE SKIP LOCKED
    ), packed_hours AS (
        UPDATE metric_rollups_tagged_hour t SET sketch_packed = sketch_pack(t.sketch)
        FROM hours h WHERE t.name = h.name AND t.bucket = h.bucket AND t.dims = h.dims AND t.shard = h.shard
        RETURNING 1
    ), days AS (
        SELECT name, bucket, dims FROM metric_rollups_tagged_day
        WHERE bucket >= from_ts AND sketch_packed IS NULL
        ORDER BY name, bucket, dims FOR UPDATE SKIP LOCKED
    ), packed_days AS (
        UPDATE metric_rollups_tagged_day t SET sketch_packed = sketch_pack(t.sketch)
        FROM days d WHERE t.name = d.name AND t.bucket = d.bucket AND t.dims = d.dims
        RETURNING 1
    )
    SELECT ((SELECT count(*) FROM packed_quarters) + (SELECT count(*) FROM packed_hours) + (SELECT count(*) FROM packed_days))::integer
$$;

-- The rows already stored, so charts are fast from the first query after the upgrade.
SELECT pack_tagged_sketches('-infinity', now() - interval '62 minutes');
