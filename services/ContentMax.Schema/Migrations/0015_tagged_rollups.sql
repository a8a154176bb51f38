-- Tagged rollups for the metrics explorer (filters and group-by on tags over
-- long periods without scanning raw rows), per minute, hour and day. One row
-- per (metric, bucket, dims, shard), where dims is the JSON object of the values a point carries for the
-- keys of Aggregation:RollupTagKeys (default route, status, service, method,
-- page), e.g. {"route": "/a", "status": "200"}. A point with none of those keys
-- adds to no tagged row (the untagged rollups still have it). Written by the
-- same storage transaction as the untagged rollups (one multi-row upsert per
-- tier), compacted by the rollup compactor, partitioned and retained as the
-- minute and hour rollups.
--
-- The key leads with the metric name: every explorer query is about one metric.
-- dims is jsonb because filters (dims ->> 'status' = ANY(...)) and groups
-- (dims ->> 'route') read any subset of the keys.
CREATE TABLE metric_rollups_tagged_minute (
    name       text             NOT NULL,
    bucket     timestamptz      NOT NULL,
    dims       jsonb            NOT NULL,
    shard      smallint         NOT NULL DEFAULT 0,
    count      bigint           NOT NULL,
    sum        double precision NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    sketch     sketch           NOT NULL,
    dist_count bigint           NOT NULL DEFAULT 0,
    PRIMARY KEY (name, bucket, dims, shard)
) PARTITION BY RANGE (bucket);

CREATE TABLE metric_rollups_tagged_hour (LIKE metric_rollups_tagged_minute INCLUDING DEFAULTS, PRIMARY KEY (name, bucket, dims, shard))
    PARTITION BY RANGE (bucket);

-- Tagged day rollups: one row per UTC day, metric and dims, merged from that
-- day's tagged hours by the rollup compactor once the day has ended and rebuilt
-- when a late point changes its hours, exactly as metric_rollups_day
-- (0011_day_rollups.sql): a query uses a day row only while its count equals
-- its hours', and reads that day's hours otherwise. A 7-day group-by then
-- merges about 7 rows per combination of tag values instead of 168.
-- Not partitioned; retention deletes its old rows.
CREATE TABLE metric_rollups_tagged_day (
    name       text             NOT NULL,
    bucket     timestamptz      NOT NULL,
    dims       jsonb            NOT NULL,
    count      bigint           NOT NULL,
    sum        double precision NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    sketch     sketch           NOT NULL,
    dist_count bigint           NOT NULL DEFAULT 0,
    PRIMARY KEY (name, bucket, dims)
);
ALTER TABLE metric_rollups_tagged_day SET (toast_tuple_target = 8160);

-- Builds or rebuilds the tagged day rows of [from_day, to_day) whose hours
-- have changed since they were built. Returns how many rows it wrote.
CREATE FUNCTION build_tagged_day_rollups(from_day timestamptz, to_day timestamptz)
RETURNS integer LANGUAGE sql AS $$
    WITH hours AS (
        SELECT name, date_trunc('day', bucket, 'UTC') AS day, dims, count, sum, min, max, sketch, dist_count
        FROM metric_rollups_tagged_hour
        WHERE bucket >= from_day AND bucket < to_day
    ), totals AS (
        SELECT name, day, dims, sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
               sum(dist_count)::bigint AS dist_count
        FROM hours
        GROUP BY name, day, dims
    ), stale AS (
        SELECT t.* FROM totals t
        LEFT JOIN metric_rollups_tagged_day d ON d.name = t.name AND d.bucket = t.day AND d.dims = t.dims
        WHERE d.count IS DISTINCT FROM t.count
    ), keys AS (
        SELECT h.name, h.day, h.dims, k, sum(c)::bigint AS c
        FROM hours h
        JOIN stale s ON s.name = h.name AND s.day = h.day AND s.dims = h.dims
        CROSS JOIN LATERAL unnest((h.sketch).keys, (h.sketch).counts) AS u(k, c)
        GROUP BY 1, 2, 3, 4
    ), sketches AS (
        SELECT name, day, dims, ROW(array_agg(k ORDER BY k), array_agg(c ORDER BY k))::sketch AS sketch
        FROM keys
        GROUP BY name, day, dims
    ), written AS (
        INSERT INTO metric_rollups_tagged_day AS r (name, bucket, dims, count, sum, min, max, sketch, dist_count)
        SELECT s.name, s.day, s.dims, s.count, s.sum, s.min, s.max, k.sketch, s.dist_count
        FROM stale s JOIN sketches k ON k.name = s.name AND k.day = s.day AND k.dims = s.dims
        ORDER BY s.name, s.day, s.dims
        ON CONFLICT (name, bucket, dims) DO UPDATE SET
            count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
            sketch = EXCLUDED.sketch, dist_count = EXCLUDED.dist_count
        RETURNING 1
    )
    SELECT count(*)::integer FROM written
$$;

-- Since when the tagged rollups of a key set are complete: buckets from
-- `since` on hold every point with one of the keys. Written by the first
-- storage transaction that writes tagged rows for the set: '-infinity' when no
-- metrics were stored before it (a new installation), otherwise the time of
-- that write. Raw points stored before are not back-filled; queries over
-- earlier periods read raw rows instead (ExplorerQueries).
CREATE TABLE rollup_tag_keys (
    keys  text[]      PRIMARY KEY,
    since timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION maintain_partitions(raw_keep interval, minute_keep interval, hour_keep interval, ahead interval DEFAULT interval '3 days')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT * FROM maintain_partitions_of('metrics', false, raw_keep, ahead, '')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_minute', false, minute_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_hour', true, hour_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_tagged_minute', false, minute_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_tagged_hour', true, hour_keep, ahead, 'WITH (toast_tuple_target = 8160)')
$$;

-- Partitions from the oldest point a client may still send (7 days) onwards;
-- aggregation's partition maintenance adds the rest at its next pass.
SELECT maintain_partitions_of('metric_rollups_tagged_minute', false, interval '8 days', interval '3 days', 'WITH (toast_tuple_target = 8160)');
SELECT maintain_partitions_of('metric_rollups_tagged_hour', true, interval '8 days', interval '3 days', 'WITH (toast_tuple_target = 8160)');
