using System.ComponentModel.DataAnnotations;

namespace ContentMax.ServiceDefaults.Resilience;

// The Resilience section: the settings of the pipelines in ContentMaxResilience
// that no other section owns. PostHog's retries keep their settings in the
// PostHog section (MaxRetries, RetryBaseDelay, ...), where they always were.
// Durations accept the human form ("1s", "250ms", "1m").
public sealed class ResilienceOptions
{
    public const string SectionName = "Resilience";

    // Datadog intake: the first retry waits DatadogFirstDelay, each next one
    // twice as long, up to DatadogMaxDelay (a 429 waits for the rate-limit reset instead).
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan DatadogFirstDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan DatadogMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    // HealthStatusChanged publishing: this many attempts in all, each bounded by
    // HealthPublishTimeout, the n-th retry waiting n × HealthPublishDelay.
    [Range(2, 20)]
    public int HealthPublishAttempts { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan HealthPublishDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan HealthPublishTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
