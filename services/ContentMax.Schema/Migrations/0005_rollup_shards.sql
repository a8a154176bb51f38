-- Concurrent consumers all write the current minute's rollup rows, so with one
-- row per (bucket, name) they queue on the same row locks. Each write now goes
-- to one of a few shards; queries merge the shards like any other rollup rows.
ALTER TABLE metric_rollups_minute ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups_minute DROP CONSTRAINT metric_rollups_minute_pkey;
ALTER TABLE metric_rollups_minute ADD PRIMARY KEY (bucket, name, shard);

ALTER TABLE metric_rollups_hour ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups_hour DROP CONSTRAINT metric_rollups_hour_pkey;
ALTER TABLE metric_rollups_hour ADD PRIMARY KEY (bucket, name, shard);
