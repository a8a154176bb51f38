-- Day rollups: one row per UTC day and metric name, merged from that day's
-- hour rollups by the rollup compactor once the day has ended, and rebuilt
-- when a late point changes the day's hours (see
-- services/ContentMax.Aggregation/Rollups/RollupCompactor.cs). A 7- or 30-day
-- query then merges a few dozen day sketches per name instead of hundreds of
-- hour sketches.
--
-- A day row is used only while its count equals the sum of its hours' counts
-- (queries check that), so a day that has changed since it was built is
-- answered from its hours until the compactor catches up. Counts only grow, so
-- equal counts mean the same points.
--
-- 20 names over 2 years is ~15,000 rows: the table is not partitioned, and
-- retention deletes its old rows.
CREATE TABLE metric_rollups_day (
    bucket timestamptz      NOT NULL,
    name   text             NOT NULL,
    count  bigint           NOT NULL,
    sum    double precision NOT NULL,
    min    double precision NOT NULL,
    max    double precision NOT NULL,
    sketch sketch           NOT NULL,
    PRIMARY KEY (bucket, name)
);

-- Builds or rebuilds the day rows of [from_day, to_day) whose hours have
-- changed since they were built. Returns how many rows it wrote.
CREATE FUNCTION build_day_rollups(from_day timestamptz, to_day timestamptz)
RETURNS integer LANGUAGE sql AS $$
    WITH hours AS (
        SELECT date_trunc('day', bucket, 'UTC') AS day, name, count, sum, min, max, sketch
        FROM metric_rollups_hour
        WHERE bucket >= from_day AND bucket < to_day
    ), totals AS (
        SELECT day, name, sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
        FROM hours
        GROUP BY day, name
    ), stale AS (
        SELECT t.* FROM totals t
        LEFT JOIN metric_rollups_day d ON d.bucket = t.day AND d.name = t.name
        WHERE d.count IS DISTINCT FROM t.count
    ), keys AS (
        SELECT h.day, h.name, k, sum(c)::bigint AS c
        FROM hours h
        JOIN stale s ON s.day = h.day AND s.name = h.name
        CROSS JOIN LATERAL unnest((h.sketch).keys, (h.sketch).counts) AS u(k, c)
        GROUP BY 1, 2, 3
    ), sketches AS (
        SELECT day, name, ROW(array_agg(k ORDER BY k), array_agg(c ORDER BY k))::sketch AS sketch
        FROM keys
        GROUP BY day, name
    ), written AS (
        INSERT INTO metric_rollups_day AS r (bucket, name, count, sum, min, max, sketch)
        SELECT s.day, s.name, s.count, s.sum, s.min, s.max, k.sketch
        FROM stale s JOIN sketches k ON k.day = s.day AND k.name = s.name
        ORDER BY s.day, s.name
        ON CONFLICT (bucket, name) DO UPDATE SET
            count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max, sketch = EXCLUDED.sketch
        RETURNING 1
    )
    SELECT count(*)::integer FROM written
$$;

-- Every day that has ended, from the hours there are.
SELECT build_day_rollups('-infinity', date_trunc('day', now(), 'UTC'));
