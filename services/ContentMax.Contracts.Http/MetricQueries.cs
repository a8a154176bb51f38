namespace ContentMax.Contracts.Http;

// The bodies of aggregation's /api/metrics endpoints. The JSON is these
// records as ASP.NET writes them (web defaults: camelCase, nulls written).

// P75 is beyond the seed's fields: Core Web Vitals are assessed at the 75th
// percentile. Exact says whether the percentiles are exact or from sketches.
public sealed record MetricAggregate(long Count, double Sum, double Min, double Max, double Average, double Median, double P75, double P95, double P99, bool Exact = true);

// Without metric=, at most `limit` names (500 unless asked), those with the
// most observations; TotalNames and Truncated say how many there were.
public sealed record AggregatesResponse(string Period, DateTimeOffset From, DateTimeOffset To, SortedDictionary<string, MetricAggregate> Metrics,
    int TotalNames = 0, bool Truncated = false);

public sealed record SeriesBucket(DateTime Start, long Count, double? Average, double? Min, double? Max, double? P95);

// Buckets: every matching point, ungrouped (as before groups existed).
// Series: one per top group (one "all" without groupBy), "other" last.
public sealed record SeriesResponse(string Metric, string Period, string Step, DateTimeOffset From, DateTimeOffset To, List<SeriesBucket> Buckets,
    string Aggregation, List<string> GroupBy, List<string> Filters, List<ExplorerSeries> Series, bool Truncated);

public sealed record ExplorerPoint(DateTime Start, long Count, double? Value);

// One charted group: its tag values, "k=v, k2=v2" (or "all", "other"), its
// aggregation over the whole period and its observations, and one point per step.
public sealed record ExplorerSeries(Dictionary<string, string> Group, string Label, bool Other, double? Total, long Count, List<ExplorerPoint> Points);

public sealed record ExplorerGroup(Dictionary<string, string> Group, string Label, bool Other, MetricAggregate Aggregate);

// Values: the top groups keyed by tag value (one key) or label (two keys),
// without "other"; Groups: the same ranked, with "other" last. Tag is the
// group-by keys joined by ','.
public sealed record BreakdownResponse(string Metric, string Tag, string Period, DateTimeOffset From, DateTimeOffset To, Dictionary<string, MetricAggregate> Values,
    List<string> GroupBy, List<string> Filters, string Aggregation, List<ExplorerGroup> Groups, bool Truncated);

public sealed record TagValue(string Value, long Count);

public sealed record TagKey(string Key, List<TagValue> Values, bool Truncated);

public sealed record TagsResponse(string Metric, string Period, List<TagKey> Keys);

// Count is how many observations the row stands for: 1 for a single value;
// more for a histogram point, whose Value is then their sum and whose Min and
// Max are set when the source knew them.
public sealed record RawMetric(Guid Id, string Metric, double Value, long Timestamp, string? Url, string? UserAgent, Dictionary<string, string>? Tags,
    long Count = 1, double? Min = null, double? Max = null);

public sealed record RawResponse(List<RawMetric> Items, string? NextCursor);
