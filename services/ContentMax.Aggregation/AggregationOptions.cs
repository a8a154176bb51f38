using System.ComponentModel.DataAnnotations;

namespace ContentMax.Aggregation;

public sealed class AggregationOptions
{
    public const string SectionName = "Aggregation";

    // How long a storage write waits for more messages to write with it (or
    // until 20,000 points wait). Larger writes merge each rollup row once for
    // more points; the cost is this much latency before a message is stored.
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan StorageLinger { get; set; } = TimeSpan.FromMilliseconds(100);

    // A metric name with at most this many values in a period gets exact
    // percentiles from raw rows; above it they come from merged rollup sketches
    // (within 0.5%), which keeps a 24h query over millions of rows fast.
    [Range(0, 10_000_000)]
    public int ExactLimit { get; set; } = 20_000;

    // How long all-names aggregate results (what dashboards ask for) are
    // cached in Redis. Zero turns the cache off.
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan QueryCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    // A metrics query (/api/metrics and below) is cancelled in Postgres after
    // this long and answered 503 with Retry-After, rather than holding a
    // connection and a core for as long as it takes.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    // How many metrics queries run at once on a replica, and how many more may
    // wait for a turn; beyond that a query is answered 503 with Retry-After.
    [Range(1, 1000)]
    public int MaxConcurrentQueries { get; set; } = 8;

    [Range(0, 10_000)]
    public int QueryQueueLimit { get; set; } = 32;

    // The tag keys the tagged rollups are kept by (comma-separated): one row per
    // minute, hour, metric and combination of these keys' values on a point.
    // Explorer queries that filter and group only by these keys read the tagged
    // rollups; any other key is answered from raw rows. A point carrying none
    // of them costs nothing more to store. Every replica must use the same set;
    // a new set starts its own tagged rollups (older periods fall back to raw rows).
    [RegularExpression(@"^\s*[^,\s][^,]*(,\s*[^,\s][^,]*)*$", ErrorMessage = "Aggregation:RollupTagKeys must be a comma-separated list of tag keys.")]
    public string RollupTagKeys { get; set; } = "route,status,service,method,page,level";

    // The tag keys of RollupTagKeys, distinct and in ordinal order (empty: no tagged rollups).
    public string[] TagKeys => [.. RollupTagKeys.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    // How many distinct groups an explorer group-by may produce in its period;
    // beyond that the query is answered 400 (add a filter or a shorter period).
    [Range(1, 100_000)]
    public int MaxGroups { get; set; } = 1000;

    // How often the shards of closed rollup buckets are merged into one row.
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(1);

    // A message that fails for any reason other than an unreachable database (a
    // bug, a broken migration) is retried this many times with backoff, then
    // moved to metrics-storage_error, from where `replay-errors` returns it once
    // the cause is fixed.
    [Range(0, 100)]
    public int RetryLimit { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryMinInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryMaxInterval { get; set; } = TimeSpan.FromSeconds(30);

    // While the database is unreachable a message is retried for as long as the
    // outage lasts (days), never given up to the error queue; this caps the
    // wait between attempts, and so how long storage lags behind a recovery.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan OutageRetryMaxInterval { get; set; } = TimeSpan.FromSeconds(10);
}
