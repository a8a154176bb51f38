using System.Diagnostics;
using System.Threading.Channels;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion;

// Coalesces accepted metrics into broker messages. Requests that arrive within
// a few milliseconds of each other share one MetricsBatchReceived message of up
// to 1000 metrics; each request completes only when the broker has confirmed
// the message that carries its metrics. One message per metric tops out near
// 3k metrics/s on this hardware, one message per batch passes 100k.
public sealed class MetricBatcher(IBus bus, IOptions<IngestionOptions> options, IngestionMetrics metrics, ILogger<MetricBatcher> logger)
    : BackgroundService
{

    private readonly IngestionOptions _options = options.Value;
    private readonly Channel<PendingMetrics> _queue = Channel.CreateUnbounded<PendingMetrics>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private long _pendingMetrics;

    public long PendingCount => Interlocked.Read(ref _pendingMetrics);

    // Completes when the broker has confirmed the metrics. Throws
    // IngestionUnavailableException when they were not accepted.
    // `source` names the protocol the points came in by (MetricsBatchReceived.Source).
    public Task PublishAsync(MetricPoint[] points, string source = Sources.Http)
    {
        if (Interlocked.Add(ref _pendingMetrics, points.Length) > _options.MaxPendingMetrics)
        {
            Interlocked.Add(ref _pendingMetrics, -points.Length);
            metrics.MetricsRejected.Add(points.Length, new KeyValuePair<string, object?>("reason", "overloaded"));
            throw new IngestionUnavailableException("Ingestion is at capacity.", TimeSpan.FromSeconds(1));
        }

        var pending = new PendingMetrics(points, source, Activity.Current?.Context);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _pendingMetrics, -points.Length);
            throw new IngestionUnavailableException("Ingestion is shutting down.", TimeSpan.FromSeconds(5));
        }

        return pending.Completion.Task;
    }

    // One collector forms messages; Publishers of them are in flight at once.
    // While every publisher waits for a confirm, requests keep queueing, so the
    // next message is as full as the load makes it: a single collector is what
    // lets single-metric requests share messages instead of being spread one
    // or two per message over many lingering pumps.
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var formed = Channel.CreateBounded<List<PendingMetrics>>(
            new BoundedChannelOptions(1) { SingleWriter = true, SingleReader = false });
        var publishers = Enumerable.Range(0, _options.Publishers)
            .Select(_ => Task.Run(() => PublishFormedAsync(formed.Reader, stoppingToken), CancellationToken.None));
        return Task.WhenAll(publishers.Prepend(Task.Run(() => CollectAsync(formed.Writer), CancellationToken.None)));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop taking requests, then let the publishers send what is already queued.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task PublishFormedAsync(ChannelReader<List<PendingMetrics>> formed, CancellationToken stoppingToken)
    {
        await foreach (var batch in formed.ReadAllAsync(CancellationToken.None))
        {
            await PublishBatchAsync(batch, batch.Sum(p => p.Points.Length), stoppingToken);
        }
    }

    private async Task CollectAsync(ChannelWriter<List<PendingMetrics>> formed)
    {
        var reader = _queue.Reader;
        PendingMetrics? carried = null;
        using var linger = new CancellationTokenSource();
        try
        {
            while (true)
            {
                var first = carried;
                carried = null;
                if (first is null)
                {
                    if (!await reader.WaitToReadAsync(CancellationToken.None)) return;
                    if (!reader.TryRead(out first)) continue;
                }

                var batch = new List<PendingMetrics> { first };
                var count = first.Points.Length;
                var deadline = Stopwatch.GetTimestamp() + (long)(_options.Linger.TotalSeconds * Stopwatch.Frequency);

                while (count < _options.MaxMetricsPerMessage)
                {
                    if (reader.TryRead(out var next))
                    {
                        if (count + next.Points.Length > _options.MaxMetricsPerMessage)
                        {
                            carried = next;
                            break;
                        }

                        batch.Add(next);
                        count += next.Points.Length;
                        continue;
                    }

                    var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (remaining <= TimeSpan.Zero || reader.Completion.IsCompleted) break;

                    linger.TryReset();
                    linger.CancelAfter(remaining);
                    try
                    {
                        if (!await reader.WaitToReadAsync(linger.Token)) break;
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                // Waits while every publisher is busy; requests queue meanwhile.
                await formed.WriteAsync(batch);
            }
        }
        finally
        {
            if (carried is not null) await formed.WriteAsync([carried]);
            formed.TryComplete();
        }
    }

    private async Task PublishBatchAsync(List<PendingMetrics> batch, int count, CancellationToken stoppingToken)
    {
        var points = new MetricPoint[count];
        var offset = 0;
        foreach (var pending in batch)
        {
            pending.Points.CopyTo(points, offset);
            offset += pending.Points.Length;
        }

        using var activity = StartPublishActivity(batch);
        activity?.SetTag("contentmax.metrics.count", count);
        activity?.SetTag("contentmax.requests.count", batch.Count);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            // The compact binary form: a fraction of the cost of thousands of
            // objects as JSON, on both sides of the broker.
            var source = batch.All(p => p.Source == batch[0].Source) ? batch[0].Source : Sources.Mixed;
            await bus.Publish(new MetricsBatchReceived { Packed = MetricBatchCodec.Encode(points), Source = source }, timeout.Token);
            metrics.MetricsPublished.Add(count);
            metrics.MessagesPublished.Add(1);
            metrics.MessageSize.Record(count);
            foreach (var pending in batch) pending.Completion.TrySetResult();
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "broker unavailable");
            logger.LogWarning("Publishing {Count} metrics failed: {Error}", count, ex.GetType().Name);
            metrics.MetricsRejected.Add(count, new KeyValuePair<string, object?>("reason", "broker_unavailable"));
            var unavailable = new IngestionUnavailableException("The message broker is unavailable.", TimeSpan.FromSeconds(5), ex);
            foreach (var pending in batch) pending.Completion.TrySetException(unavailable);
        }
        finally
        {
            Interlocked.Add(ref _pendingMetrics, -count);
        }
    }

    // The message continues the trace of the first request whose span is
    // recorded (requests on the ingest route are sampled) and links the other
    // recorded ones, so a trace runs from the HTTP request through the broker
    // to storage. When none is recorded, an unrecorded activity takes the
    // first request's place: the broker send and the consumer follow it, so
    // the whole message is left out of traces as its requests were.
    private static Activity? StartPublishActivity(List<PendingMetrics> batch)
    {
        var recorded = batch.Where(p => p.Parent is { } c && c.TraceFlags.HasFlag(ActivityTraceFlags.Recorded)).Select(p => p.Parent!.Value).ToList();
        if (recorded.Count > 0)
        {
            return ContentMaxTelemetry.ActivitySource.StartActivity("metrics publish", ActivityKind.Internal, recorded[0],
                links: recorded.Skip(1).Select(c => new ActivityLink(c)));
        }

        if (batch[0].Parent is not { } first) return null;
        var unrecorded = new Activity("metrics publish");
        unrecorded.SetParentId(first.TraceId, first.SpanId, ActivityTraceFlags.None);
        return unrecorded.Start();
    }

    private sealed record PendingMetrics(MetricPoint[] Points, string Source, ActivityContext? Parent)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

// What MetricsBatchReceived.Source says about messages ingestion publishes.
public static class Sources
{
    public const string Http = "http";
    public const string Otlp = "otlp";
    public const string Prometheus = "prometheus";

    // Requests that came in by different protocols, sharing one message.
    public const string Mixed = "ingestion";
}

public sealed class IngestionUnavailableException(string message, TimeSpan retryAfter, Exception? inner = null)
    : Exception(message, inner)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
