using System.ComponentModel.DataAnnotations;
using ContentMax.Contracts;

namespace ContentMax.Monitoring.Client;

/// <summary>
/// The <c>ContentMaxMonitoring</c> configuration section. Durations accept a
/// human form (<c>500ms</c>, <c>1s</c>, <c>2m</c>) as well as <c>00:00:01</c>.
/// </summary>
public sealed class ContentMaxMonitoringOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "ContentMaxMonitoring";

    /// <summary>The transport that POSTs to the ingestion API (the default).</summary>
    public const string HttpTransport = "http";

    /// <summary>The transport that publishes through MassTransit (ContentMax.Monitoring.Client.MassTransit).</summary>
    public const string MassTransitTransport = "masstransit";

    /// <summary>The paths left out of request metrics when <see cref="ExcludedPaths"/> is not set.</summary>
    public static IReadOnlyList<string> DefaultExcludedPaths { get; } = ["/health", "/alive"];

    /// <summary>When false, nothing is recorded or sent and no other setting is required.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The ingestion service's base address, such as <c>http://localhost:5181</c>; required for the http transport.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>An API key with the ingest role, sent as <c>X-Api-Key</c>. It is never logged.</summary>
    public string? IngestKey { get; set; }

    /// <summary>The <c>service</c> tag on every point; the host's application name when not set.</summary>
    [MaxLength(MetricRules.MaxTagValueLength)]
    public string? ServiceName { get; set; }

    /// <summary>Tags added to every point (a point's own tags win).</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long observations are aggregated before they leave as points: the client's linger.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "ContentMaxMonitoring:FlushInterval must be from 50ms to 1h.")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>At most this many points per request (the server takes at most 1000).</summary>
    [Range(1, MetricRules.MaxBatchSize, ErrorMessage = "ContentMaxMonitoring:MaxPointsPerRequest must be from 1 to 1000.")]
    public int MaxPointsPerRequest { get; set; } = MetricRules.MaxBatchSize;

    /// <summary>
    /// The bound on memory: series being aggregated plus points formed but not
    /// yet delivered. Beyond it new observations and points are dropped and counted.
    /// </summary>
    [Range(10, 100_000_000, ErrorMessage = "ContentMaxMonitoring:MaxBufferedPoints must be from 10 to 100,000,000.")]
    public int MaxBufferedPoints { get; set; } = 100_000;

    /// <summary><c>http</c> (the default) or <c>masstransit</c> (with the ContentMax.Monitoring.Client.MassTransit package).</summary>
    [Required(AllowEmptyStrings = false)]
    public string Transport { get; set; } = HttpTransport;

    /// <summary>
    /// Request paths left out of request metrics, matched as prefixes segment by
    /// segment (<c>/health</c> leaves out <c>/health/ready</c>, not <c>/healthcare</c>).
    /// Setting it replaces the defaults, <c>/health</c> and <c>/alive</c>.
    /// </summary>
    public List<string>? ExcludedPaths { get; set; }

    /// <summary>How long one delivery attempt may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "ContentMaxMonitoring:RequestTimeout must be from 100ms to 10m.")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between delivery attempts while the server is unreachable (a Retry-After it sends is honoured).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "ContentMaxMonitoring:RetryMaxDelay must be from 10ms to 1h.")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long stopping the host may spend delivering what is still buffered.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "ContentMaxMonitoring:ShutdownTimeout must be from 0 to 10m.")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal IReadOnlyList<string> EffectiveExcludedPaths => ExcludedPaths ?? DefaultExcludedPaths;
}
