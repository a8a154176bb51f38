using System.ComponentModel.DataAnnotations;

namespace ContentMax.HealthProbe;

public sealed class HealthProbeOptions
{
    public const string SectionName = "HealthProbe";

    [Range(typeof(TimeSpan), "00:00:00.200", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    // The services whose /health is checked, by their service-discovery names.
    public string[] Services { get; set; } = ["ingestion", "aggregation", "dashboard"];

    // Named external HTTP targets (the seed checked Google's APIs for GSC and GA4, and Shopify).
    public List<ExternalTarget> External { get; set; } = [];
}

public sealed class ExternalTarget
{
    [Required]
    public string Name { get; set; } = "";

    public string Method { get; set; } = "HEAD";

    [Required]
    public Uri? Url { get; set; }

    public TimeSpan? Timeout { get; set; }

    public int ExpectedStatus { get; set; } = 200;
}
