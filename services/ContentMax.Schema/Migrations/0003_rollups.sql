-- Per-minute and per-hour rollups of every metric name: count, sum, min, max and
-- a mergeable log-bucket sketch (see services/ContentMax.Aggregation/Rollups/LogSketch.cs),
-- maintained by the consumer in the same statement that inserts raw rows, so a
-- redelivered batch (whose raw rows already exist) adds nothing to them.

-- A sketch: bucket keys in ascending order (key order is value order) and
-- their counts.
CREATE TYPE sketch AS (keys integer[], counts bigint[]);

-- The bucket key of a value; must match LogSketch.KeyOf (relative accuracy
-- 0.5%, gamma = 1.005 / 0.995, offset 100000, |v| < 1e-9 counts as zero).
CREATE FUNCTION sketch_key(v double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN abs(v) < 1e-9 THEN 0
        WHEN v > 0 THEN 100000 + ceil(ln(v) / ln(1.005e0 / 0.995e0))::integer
        ELSE -(100000 + ceil(ln(-v) / ln(1.005e0 / 0.995e0))::integer)
    END
$$;

CREATE FUNCTION sketch_merge(a sketch, b sketch) RETURNS sketch
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ROW(coalesce(array_agg(k ORDER BY k), '{}'), coalesce(array_agg(c ORDER BY k), '{}'))::sketch
    FROM (
        SELECT k, sum(c)::bigint AS c
        FROM (
            SELECT * FROM unnest((a).keys, (a).counts) AS x(k, c)
            UNION ALL
            SELECT * FROM unnest((b).keys, (b).counts) AS y(k, c)
        ) both_sketches
        GROUP BY k
    ) merged
$$;

CREATE TABLE metric_rollups_minute (
    bucket timestamptz      NOT NULL,
    name   text             NOT NULL,
    count  bigint           NOT NULL,
    sum    double precision NOT NULL,
    min    double precision NOT NULL,
    max    double precision NOT NULL,
    sketch sketch           NOT NULL,
    PRIMARY KEY (bucket, name)
);

CREATE TABLE metric_rollups_hour (LIKE metric_rollups_minute INCLUDING ALL);

-- Backfill from whatever raw rows already exist.
INSERT INTO metric_rollups_minute (bucket, name, count, sum, min, max, sketch)
SELECT minute, name, sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
FROM (
    SELECT date_trunc('minute', ts) AS minute, name, sketch_key(value) AS key,
           count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
    FROM metrics
    GROUP BY 1, 2, 3
) keyed
GROUP BY minute, name;

INSERT INTO metric_rollups_hour (bucket, name, count, sum, min, max, sketch)
SELECT hour, name, sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
FROM (
    SELECT date_trunc('hour', ts) AS hour, name, sketch_key(value) AS key,
           count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
    FROM metrics
    GROUP BY 1, 2, 3
) keyed
GROUP BY hour, name;
