-- Tagged rollups for the metrics explorer (filters and group-by on tags over
-- long periods without scanning raw rows). One row per (metric, bucket, dims,
-- shard), where dims is the JSON object of the values a point carries for the
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
