using System.ComponentModel.DataAnnotations;

namespace ContentMax.Aggregation;

public sealed class AggregationOptions
{
    public const string SectionName = "Aggregation";

    // A metric name with at most this many values in a period gets exact
    // percentiles from raw rows; above it they come from merged rollup sketches
    // (within 0.5%), which keeps a 24h query over millions of rows fast.
    [Range(0, 10_000_000)]
    public int ExactLimit { get; set; } = 20_000;

    // How long all-names aggregate results (what dashboards ask for) are
    // cached in Redis. Zero turns the cache off.
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan QueryCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    // How often the shards of closed rollup buckets are merged into one row.
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(1);
}
