using System.ComponentModel.DataAnnotations;

namespace ContentMax.Ingestion;

public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    // Browser origins allowed to POST metrics (CORS). Empty allows none.
    public string[] AllowedOrigins { get; set; } = [];

    // Largest request body accepted, in bytes; larger bodies get 413.
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    // How long a broker message waits for more metrics before it is sent.
    // Every message costs the broker and the consumer the same whatever it
    // carries, so under single-metric traffic a few milliseconds of waiting
    // makes messages of dozens of metrics instead of a handful.
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(5);

    // Most metrics carried by one broker message.
    [Range(1, 1000)]
    public int MaxMetricsPerMessage { get; set; } = 1000;

    // Broker messages in flight at once, each waiting for its confirm. Confirms
    // of persistent messages wait for the broker's disk writes, so keeping
    // several in flight is what keeps the pipe full.
    [Range(1, 64)]
    public int Publishers { get; set; } = 16;

    // Metrics accepted but not yet confirmed by the broker. Past this,
    // requests get 503 with Retry-After instead of growing memory without bound.
    [Range(1000, 10_000_000)]
    public int MaxPendingMetrics { get; set; } = 200_000;

    // Distinct metric names and tag combinations per ingest key and hour (CardinalityGuard).
    public CardinalityOptions Cardinality { get; set; } = new();

    // Server POSTs of metrics are answered below Kestrel's HTTP layer
    // (ConnectionLane/IngestConnectionLane); false leaves every request to Kestrel.
    public bool ConnectionLane { get; set; } = true;

    // How long a request waits for the broker before answering 503.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
