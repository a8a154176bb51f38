-- Tagged quarter-hour rollups, for explorer charts whose step is a multiple of
-- 15 minutes but not of an hour (a 24h chart has 15-minute steps): such a chart
-- read every tagged minute row of its period (about 110,000 for 24h of 80 tag
-- combinations); whole quarters now come from one row per quarter and
-- combination (7,680).
--
-- Built by the rollup compactor from closed, merged tagged minutes (as day rows
-- are built from hours), not by storage, so ingestion writes no more rows than
-- before. A quarter row records the metric's untagged minute count for its
-- quarter when it was built (source_count). A late point changes that count,
-- and until the compactor rebuilds the quarter a query sees the difference and
-- reads the quarter's tagged minutes instead: answers stay exact.
--
-- Not partitioned (about 100 times fewer rows than the minute tier); retention
-- deletes rows as old as the minute tier's.
CREATE TABLE metric_rollups_tagged_quarter (
    name         text             NOT NULL,
    bucket       timestamptz      NOT NULL,
    dims         jsonb            NOT NULL,
    count        bigint           NOT NULL,
    sum          double precision NOT NULL,
    min          double precision NOT NULL,
    max          double precision NOT NULL,
    sketch       sketch           NOT NULL,
    dist_count   bigint           NOT NULL DEFAULT 0,
    source_count bigint           NOT NULL,
    PRIMARY KEY (name, bucket, dims)
);
ALTER TABLE metric_rollups_tagged_quarter SET (toast_tuple_target = 8160);

-- Builds or rebuilds the tagged quarter rows of [from_ts, to_ts) whose minutes
-- have changed since they were built (the untagged minute count differs from
-- source_count), or that were never built. A rebuilt quarter only gains
-- combinations (minute rows are never removed within retention), so an upsert
-- replaces every row it had. Returns how many rows it wrote.
CREATE FUNCTION build_tagged_quarter_rollups(from_ts timestamptz, to_ts timestamptz)
RETURNS integer LANGUAGE sql AS $$
    WITH sources AS (
        SELECT name, date_bin('15 minutes', bucket, timestamptz 'epoch') AS quarter, sum(count)::bigint AS source_count
        FROM metric_rollups_minute
        WHERE bucket >= from_ts AND bucket < to_ts
        GROUP BY 1, 2
    ), stale AS (
        SELECT s.* FROM sources s
        WHERE NOT EXISTS (
            SELECT 1 FROM metric_rollups_tagged_quarter q
            WHERE q.name = s.name AND q.bucket = s.quarter AND q.source_count = s.source_count)
    ), minutes AS MATERIALIZED (
        SELECT m.name, s.quarter, m.dims, m.count, m.sum, m.min, m.max, m.sketch, m.dist_count, s.source_count
        FROM stale s
        JOIN metric_rollups_tagged_minute m
          ON m.name = s.name AND m.bucket >= s.quarter AND m.bucket < s.quarter + interval '15 minutes'
    ), totals AS (
        SELECT name, quarter, dims, sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
               sum(dist_count)::bigint AS dist_count, min(source_count) AS source_count
        FROM minutes
        GROUP BY name, quarter, dims
    ), keys AS (
        -- Sketches merged in one pass over their buckets, as the day rows are.
        SELECT name, quarter, dims, k, sum(c)::bigint AS c
        FROM minutes CROSS JOIN LATERAL unnest((sketch).keys, (sketch).counts) AS u(k, c)
        GROUP BY 1, 2, 3, 4
    ), sketches AS (
        SELECT name, quarter, dims, ROW(array_agg(k ORDER BY k), array_agg(c ORDER BY k))::sketch AS sketch
        FROM keys
        GROUP BY name, quarter, dims
    ), written AS (
        INSERT INTO metric_rollups_tagged_quarter AS r (name, bucket, dims, count, sum, min, max, sketch, dist_count, source_count)
        SELECT t.name, t.quarter, t.dims, t.count, t.sum, t.min, t.max,
               coalesce(k.sketch, ROW('{}'::integer[], '{}'::bigint[])::sketch), t.dist_count, t.source_count
        FROM totals t
        LEFT JOIN sketches k ON k.name = t.name AND k.quarter = t.quarter AND k.dims = t.dims
        ORDER BY t.name, t.quarter, t.dims
        ON CONFLICT (name, bucket, dims) DO UPDATE SET
            count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
            sketch = EXCLUDED.sketch, dist_count = EXCLUDED.dist_count, source_count = EXCLUDED.source_count
        RETURNING 1
    )
    SELECT count(*)::integer FROM written
$$;

-- The quarters of the tagged minutes already stored (up to the last closed
-- quarter), so charts are fast from the first query after the upgrade.
SELECT build_tagged_quarter_rollups('-infinity', date_bin('15 minutes', now() - interval '2 minutes', timestamptz 'epoch'));
