namespace ContentMax.Contracts;

// One broker message carries a whole batch of metrics: batching on the wire is
// what makes ingestion fast (one message per metric manages ~3k metrics/s here).
// Other services may publish this directly through MassTransit; the aggregation
// service validates every point with MetricRules before storing anything.
public sealed record MetricsBatchReceived
{
    public required MetricPoint[] Metrics { get; init; }

    // Who sent the batch: "http" for the ingestion API, or a service's name.
    public string Source { get; init; } = "unknown";
}

public sealed record MetricPoint
{
    // Client-chosen or generated; storage is idempotent on it.
    public required Guid Id { get; init; }

    public required string Metric { get; init; }

    public required double Value { get; init; }

    // Unix milliseconds.
    public required long Timestamp { get; init; }

    public string? Url { get; init; }

    public string? UserAgent { get; init; }

    public Dictionary<string, string>? Tags { get; init; }
}
