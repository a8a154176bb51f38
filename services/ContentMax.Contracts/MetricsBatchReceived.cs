namespace ContentMax.Contracts;

// One broker message carries a whole batch of metrics: batching on the wire is
// what makes ingestion fast (one message per metric manages ~3k metrics/s here).
//
// The points travel in one of two forms:
//   - Metrics: objects, which MassTransit serializes as JSON. This is the form
//     for other services that publish directly; every such point is stored at
//     most once per Id.
//   - Packed: the same points in ContentMax's compact binary form
//     (MetricBatchCodec). Ingestion publishes this form: encoding and decoding
//     it costs a fraction of serializing thousands of objects as JSON.
// The aggregation service accepts both, and validates every point with
// MetricRules before storing anything.
public sealed record MetricsBatchReceived
{
    public MetricPoint[]? Metrics { get; init; }

    public byte[]? Packed { get; init; }

    // Who sent the batch: "http", "otlp" or "prometheus" for ingestion's
    // endpoints ("ingestion" when one message carries requests of several),
    // or a service's name.
    public string Source { get; init; } = "unknown";

    // The points, whichever form they came in. Throws FormatException for a
    // packed body that cannot be decoded.
    public MetricPoint[] Points() =>
        Packed is { } packed ? MetricBatchCodec.Decode(packed) : Metrics ?? [];
}

public sealed record MetricPoint
{
    // Client-chosen or generated. Storage keeps each broker message at most
    // once; points whose RequireUniqueId is set are also kept at most once per
    // Id across messages (for MetricRules.MaxAge), so a client that re-sends
    // the same ids never stores a point twice.
    public required Guid Id { get; init; }

    // The client chose the id: storage skips the point when the id was stored
    // before. Points published directly in the JSON form are always treated so.
    public bool RequireUniqueId { get; init; }

    public required string Metric { get; init; }

    // The observed value; for a point with a Distribution, the sum of all its
    // observations.
    public required double Value { get; init; }

    // Unix milliseconds.
    public required long Timestamp { get; init; }

    public string? Url { get; init; }

    public string? UserAgent { get; init; }

    public Dictionary<string, string>? Tags { get; init; }

    // Set when the point stands for many observations (a histogram): their
    // count, extremes and buckets. Value is then their sum.
    public Distribution? Distribution { get; init; }

    // Set when Value (and Distribution) are running totals since a start time
    // rather than what happened at Timestamp: a cumulative counter or histogram
    // from OpenTelemetry or Prometheus. Storage turns them into deltas per series.
    public CumulativeSeries? Cumulative { get; init; }

    // How many observations the point stands for.
    public long Count => Distribution?.Count ?? 1;
}

// Many observations in one point, as an explicit-bucket histogram: bucket i
// holds the observations in (Bounds[i-1], Bounds[i]], the first one everything
// up to Bounds[0] and the last everything above Bounds[^1]. BucketCounts has
// one more entry than Bounds and adds up to Count. Without bounds, only the
// count, sum and extremes are known. Min and Max, when known, are exact.
public sealed record Distribution
{
    public required long Count { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    public double[] Bounds { get; init; } = [];

    public long[] BucketCounts { get; init; } = [];
}

// Identifies the series a cumulative point belongs to (a hash of its metric
// name and every attribute, before any were dropped) and when its running
// total started: a new start time means the source restarted. StartTime is 0
// when the source does not say (Prometheus): a restart then shows only as a
// drop in value, and the first point of a series gives no delta.
public sealed record CumulativeSeries
{
    public required Guid Series { get; init; }

    // Unix milliseconds, or 0 when unknown.
    public long StartTime { get; init; }
}
