namespace ContentMax.Dashboard.Backend;

// The shapes the aggregation and health-probe APIs answer with.

public sealed record MetricAggregate(long Count, double Sum, double Min, double Max, double Average, double Median, double P75, double P95, double P99, bool Exact = true);

public sealed record AggregatesReport(string Period, DateTimeOffset From, DateTimeOffset To, Dictionary<string, MetricAggregate> Metrics);

public sealed record SeriesBucket(DateTime Start, long Count, double? Average, double? Min, double? Max, double? P95);

public sealed record SeriesReport(string Metric, string Period, string Step, List<SeriesBucket> Buckets,
    string? Aggregation = null, List<string>? GroupBy = null, List<string>? Filters = null, List<GroupSeries>? Series = null, bool Truncated = false);

// One line of a grouped chart: its tag values, the aggregation over the whole
// period (what it is ranked by) and one point per step.
public sealed record GroupSeries(Dictionary<string, string> Group, string Label, bool Other, double? Total, long Count, List<GroupPoint> Points);

public sealed record GroupPoint(DateTime Start, long Count, double? Value);

public sealed record BreakdownReport(string Metric, string? Tag, Dictionary<string, MetricAggregate> Values,
    List<string>? GroupBy = null, List<string>? Filters = null, string? Aggregation = null, List<GroupAggregate>? Groups = null, bool Truncated = false);

public sealed record GroupAggregate(Dictionary<string, string> Group, string Label, bool Other, MetricAggregate Aggregate);

// A metric per endpoint: count, average and p95 per row. Rows that came from
// several groups (a route seen with and without an endpoint tag) add their
// counts and weigh their averages; their p95 is the largest part's.
public sealed record EndpointBreakdown(string Metric, Dictionary<string, EndpointRow> Rows)
{
    public const string Untagged = "(no endpoint tag)";
    public const string Other = "(other endpoints)";

    public long Total => Rows.Values.Sum(r => r.Count);

    public static EndpointRow Combine(List<MetricAggregate> parts)
    {
        var count = parts.Sum(p => p.Count);
        var average = count == 0 ? 0 : parts.Sum(p => p.Sum) / count;
        return new EndpointRow(count, average, parts.MaxBy(p => p.Count)?.P95 ?? 0);
    }
}

public sealed record EndpointRow(long Count, double Average, double P95);

// The vitals of each page (the value of Tag), for the Performance tab.
public sealed record VitalsByPage(string Tag, List<PageVitals> Rows);

public sealed record PageVitals(string Page, MetricAggregate? Lcp, MetricAggregate? Inp, MetricAggregate? Cls)
{
    public long Samples => (Lcp?.Count ?? 0) + (Inp?.Count ?? 0) + (Cls?.Count ?? 0);
}

public sealed record TagValueCount(string Value, long Count);

public sealed record TagKey(string Key, List<TagValueCount> Values, bool Truncated);

public sealed record TagsReport(string Metric, string Period, List<TagKey> Keys);

public sealed record RawMetric(Guid Id, string Metric, double Value, long Timestamp);

public sealed record RawReport(List<RawMetric> Items);

public sealed record HealthReport(string Status, Dictionary<string, string> Checks, List<string>? Errors, DateTimeOffset Timestamp, double Uptime, string? Version);

public sealed record HealthTransition(string Check, string? Group, string PreviousStatus, string Status, DateTimeOffset ChangedAt, string? Error);

public sealed record HealthHistoryReport(string Period, List<HealthTransition> Transitions, Dictionary<string, double> Uptime);

// A backend answer, or why there is none: the page renders either way.
public sealed record Fetched<T>(T? Value, string? Error) where T : class
{
    public bool Ok => Value is not null;
}
