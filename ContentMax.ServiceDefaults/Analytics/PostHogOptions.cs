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
    public string Host { get; set; } = DefaultHost;

    // The "environment" super property; Sentry:Environment or the host
    // environment (lower case) when not set.
    public string? Environment { get; set; }

    // Events wait in a bounded queue; when it is full the newest is dropped and counted.
    public int MaxQueueSize { get; set; } = 1000;

    // A batch goes out when FlushAt events are waiting or FlushInterval has
    // passed, carrying at most MaxBatchSize events.
    public int FlushAt { get; set; } = 20;
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);
    public int MaxBatchSize { get; set; } = 100;

    // 5xx, 408, 429 and timeouts are retried MaxRetries times with exponential
    // backoff from RetryBaseDelay up to RetryMaxDelay (429 waits Retry-After).
    public int MaxRetries { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    // On shutdown the queue is drained for at most this long.
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan FlagsCacheTtl { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan FlagsTimeout { get; set; } = TimeSpan.FromSeconds(3);

    // Flag values used until PostHog answers, and whenever it cannot: "true",
    // "false", or a variant name. Configured entries add to or override these.
    public Dictionary<string, string> BootstrapFlags { get; set; } = new(StringComparer.Ordinal)
    {
        ["new-dashboard"] = "false",
        ["advanced-scoring"] = "false",
    };

    public bool Enabled => !string.IsNullOrWhiteSpace(ProjectApiKey);

    public Uri BaseUri => new(Host.Trim().TrimEnd('/') + "/", UriKind.Absolute);
}

public sealed class PostHogOptionsValidator : IValidateOptions<PostHogOptions>
{
    public ValidateOptionsResult Validate(string? name, PostHogOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Host?.Trim(), UriKind.Absolute, out var host) || host.Scheme is not ("http" or "https"))
        {
            failures.Add($"PostHog:Host is '{options.Host}'; it must be an absolute http(s) URL such as {PostHogOptions.DefaultHost}.");
        }

        Positive(options.MaxQueueSize, "MaxQueueSize");
        Positive(options.FlushAt, "FlushAt");
        Positive(options.MaxBatchSize, "MaxBatchSize");
        if (options.MaxRetries < 0)
        {
            failures.Add("PostHog:MaxRetries must be 0 or more.");
        }

        foreach (var (value, setting) in new[]
        {
            (options.FlushInterval, "FlushInterval"), (options.RetryBaseDelay, "RetryBaseDelay"), (options.RetryMaxDelay, "RetryMaxDelay"),
            (options.RequestTimeout, "RequestTimeout"), (options.ShutdownTimeout, "ShutdownTimeout"),
            (options.FlagsCacheTtl, "FlagsCacheTtl"), (options.FlagsTimeout, "FlagsTimeout"),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"PostHog:{setting} must be a positive time span such as 00:00:10.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(int value, string setting)
        {
            if (value <= 0)
            {
                failures.Add($"PostHog:{setting} must be at least 1.");
            }
        }
    }
}
