-- Merges any number of sketches, for compacting the shards of closed rollup
-- buckets into one row (see services/ContentMax.Aggregation/Rollups/RollupCompactor.cs).
CREATE AGGREGATE sketch_merge_agg(sketch) (
    SFUNC = sketch_merge,
    STYPE = sketch
);
