using ContentMax.Contracts.Http;

namespace ContentMax.Dashboard.Backend;

// What the dashboard makes of the APIs' answers (whose shapes are in
// ContentMax.Contracts.Http, shared with the services).

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

// A backend answer, or why there is none: the page renders either way.
public sealed record Fetched<T>(T? Value, string? Error) where T : class
{
    public bool Ok => Value is not null;
}
