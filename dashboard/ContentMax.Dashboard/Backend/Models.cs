namespace ContentMax.Dashboard;

// The shapes the aggregation and health-probe APIs answer with.

public sealed record MetricAggregate(long Count, double Sum, double Min, double Max, double Average, double Median, double P75, double P95, double P99);

public sealed record AggregatesReport(string Period, DateTimeOffset From, DateTimeOffset To, Dictionary<string, MetricAggregate> Metrics);

public sealed record SeriesBucket(DateTime Start, long Count, double? Average, double? Min, double? Max, double? P95);

public sealed record SeriesReport(string Metric, string Period, string Step, List<SeriesBucket> Buckets);

public sealed record BreakdownReport(string Metric, string Tag, Dictionary<string, MetricAggregate> Values);

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
