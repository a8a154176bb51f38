using System.Diagnostics.Metrics;

namespace ContentMax.ServiceDefaults.Analytics;

// What happened to the events: sent (PostHog accepted them), retried (sent
// again after a failure), dropped (queue full, rejected, retries exhausted or
// shut down before they could go). Published on the ContentMax meter, which
// ServiceDefaults exports over OTLP; the totals are also readable in-process.
public sealed class PostHogMetrics
{
    public const string SentName = "contentmax.posthog.events_sent";
    public const string RetriedName = "contentmax.posthog.events_retried";
    public const string DroppedName = "contentmax.posthog.events_dropped";

    private readonly Counter<long> _sent;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _dropped;
    private long _sentTotal;
    private long _retriedTotal;
    private long _droppedTotal;

    public PostHogMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ContentMaxTelemetry.MeterName);
        _sent = meter.CreateCounter<long>(SentName, "{event}", "PostHog events accepted by PostHog.");
        _retried = meter.CreateCounter<long>(RetriedName, "{event}", "PostHog events sent again after a failed attempt.");
        _dropped = meter.CreateCounter<long>(DroppedName, "{event}", "PostHog events given up on, by reason.");
    }

    public long Sent => Interlocked.Read(ref _sentTotal);
    public long Retried => Interlocked.Read(ref _retriedTotal);
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    public void AddSent(int count)
    {
        Interlocked.Add(ref _sentTotal, count);
        _sent.Add(count);
    }

    public void AddRetried(int count)
    {
        Interlocked.Add(ref _retriedTotal, count);
        _retried.Add(count);
    }

    // reason: queue_full, rejected, retries_exhausted, shutdown, unserializable, error.
    public void AddDropped(int count, string reason)
    {
        Interlocked.Add(ref _droppedTotal, count);
        _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }
}
