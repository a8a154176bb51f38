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

    public bool Enabled => !string.IsNullOrWhiteSpace(ApiKey);

    public Uri SeriesUri => new(new Uri((BaseUrl ?? $"https://api.{Site}").TrimEnd('/') + "/"), "api/v2/series");
}
