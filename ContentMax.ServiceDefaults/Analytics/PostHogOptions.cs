using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults.Analytics;

// The PostHog section of a service's configuration (the AppHost forwards
// PostHog__ProjectApiKey and PostHog__Host). Without a project API key the
// analytics client sends nothing and answers feature flags from BootstrapFlags.
public sealed class PostHogOptions
{
    public const string SectionName = "PostHog";
    public const string DefaultHost = "https://us.i.posthog.com";

    public string? ProjectApiKey { get; set; }
    [Required(ErrorMessage = "PostHog:Host is required.")]
    [AbsoluteHttpUrl(ErrorMessage = "PostHog:Host must be an absolute http(s) URL such as " + DefaultHost + ".")]
    public string Host { get; set; } = DefaultHost;

    // The "environment" super property; Sentry:Environment or the host
    // environment (lower case) when not set.
    public string? Environment { get; set; }

    // Events wait in a bounded queue; when it is full the newest is dropped and counted.
    [Range(1, int.MaxValue, ErrorMessage = "PostHog:MaxQueueSize must be at least 1.")]
    public int MaxQueueSize { get; set; } = 1000;

    // A batch goes out when FlushAt events are waiting or FlushInterval has
    // passed, carrying at most MaxBatchSize events.
    [Range(1, int.MaxValue, ErrorMessage = "PostHog:FlushAt must be at least 1.")]
    public int FlushAt { get; set; } = 20;
    [PositiveDuration(ErrorMessage = "PostHog:FlushInterval must be a positive time span such as 00:00:10.")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);
    [Range(1, int.MaxValue, ErrorMessage = "PostHog:MaxBatchSize must be at least 1.")]
    public int MaxBatchSize { get; set; } = 100;

    // 5xx, 408, 429 and timeouts are retried MaxRetries times with exponential
    // backoff from RetryBaseDelay up to RetryMaxDelay (429 waits Retry-After).
    [Range(0, int.MaxValue, ErrorMessage = "PostHog:MaxRetries must be 0 or more.")]
    public int MaxRetries { get; set; } = 3;
    [PositiveDuration(ErrorMessage = "PostHog:RetryBaseDelay must be a positive time span such as 00:00:10.")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);
    [PositiveDuration(ErrorMessage = "PostHog:RetryMaxDelay must be a positive time span such as 00:00:10.")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
    // Bounded as Polly's timeout strategy bounds it (posthog-batch pipeline).
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00", ErrorMessage = "PostHog:RequestTimeout must be between 10ms and 1 day, such as 00:00:10.")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    // On shutdown the queue is drained for at most this long.
    [PositiveDuration(ErrorMessage = "PostHog:ShutdownTimeout must be a positive time span such as 00:00:10.")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    [PositiveDuration(ErrorMessage = "PostHog:FlagsCacheTtl must be a positive time span such as 00:00:10.")]
    public TimeSpan FlagsCacheTtl { get; set; } = TimeSpan.FromSeconds(60);
    [PositiveDuration(ErrorMessage = "PostHog:FlagsTimeout must be a positive time span such as 00:00:10.")]
    public TimeSpan FlagsTimeout { get; set; } = TimeSpan.FromSeconds(3);

    // Flag values used until PostHog answers, and whenever it cannot: "true",
    // "false", or a variant name. Configured entries add to or override these.
    public Dictionary<string, string> BootstrapFlags { get; set; } = new(StringComparer.Ordinal)
    {
        ["new-dashboard"] = "false",
        ["advanced-scoring"] = "false",
    };

    public bool Enabled => !string.IsNullOrWhiteSpace(ProjectApiKey);

    // A method, not a property: validation reads every property, and this one throws on an invalid Host.
    public Uri BaseUri() => new(Host.Trim().TrimEnd('/') + "/", UriKind.Absolute);
}

// Checks PostHogOptions as startup does (their DataAnnotations), for code that
// builds the options outside a host.
public sealed class PostHogOptionsValidator : IValidateOptions<PostHogOptions>
{
    public ValidateOptionsResult Validate(string? name, PostHogOptions options) =>
        new DataAnnotationValidateOptions<PostHogOptions>(null).Validate(name, options);
}
