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
    // Client-chosen or generated. Storage is idempotent on (Id, Timestamp),
    // which a redelivery or a re-sent point with its own timestamp repeats.
    public required Guid Id { get; init; }

    // Storage also skips the point when its id is already stored with another
    // timestamp (within MetricRules.MaxAge either side). Ingestion sets it for a
    // client-chosen id sent without a timestamp, whose timestamp is the time of
    // receipt and so differs on every re-send.
    public bool RequireUniqueId { get; init; }

    public required string Metric { get; init; }

    public required double Value { get; init; }

    // Unix milliseconds.
    public required long Timestamp { get; init; }

    public string? Url { get; init; }

    public string? UserAgent { get; init; }

    public Dictionary<string, string>? Tags { get; init; }
}
