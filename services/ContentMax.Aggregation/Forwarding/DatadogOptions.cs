using System.ComponentModel.DataAnnotations;

namespace ContentMax.Aggregation.Forwarding;

public sealed class DatadogOptions
{
    public const string SectionName = "Datadog";

    // Without a key, forwarding is off (one warning at startup).
    public string? ApiKey { get; set; }

    // datadoghq.com, datadoghq.eu, us3.datadoghq.com, ...
    public string Site { get; set; } = "datadoghq.com";

    // Overrides the address derived from Site; tests point it at a local intake.
    public string? BaseUrl { get; set; }

    // The env tag; defaults to the host's environment name.
    public string? Environment { get; set; }

    public bool Compress { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 10_000)]
    public int BatchesPerRequest { get; set; } = 50;

    // Metric name → count, gauge or distribution, over the defaults by name and
    // kind (see DatadogMapping).
    public Dictionary<string, string> Types { get; set; } = new(StringComparer.Ordinal);

    // The tag keys a point may carry to Datadog; every other tag stays in
    // ContentMax. env is never taken from a client.
    public string[] AllowedTags { get; set; } = DatadogMapping.DefaultAllowedTags;

    // How long a forwarder holds the outbox rows it claimed before another
    // replica may take them; sending gives up and releases them before then.
    [Range(typeof(TimeSpan), "00:00:10", "00:30:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    // After Datadog refuses the key (401/403), how long forwarding pauses before trying again.
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AuthFailurePause { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(ApiKey);

    public Uri BaseUri => new((BaseUrl ?? $"https://api.{Site}").TrimEnd('/') + "/");

    public Uri SeriesUri => new(BaseUri, DatadogPayload.SeriesPath);
}
