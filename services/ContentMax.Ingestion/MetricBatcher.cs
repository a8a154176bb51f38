using System.Diagnostics;
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
//
// A request joins the open message under a lock and awaits that message's one
// completion: nothing is scheduled per request. The publisher forming the
// message wakes once for its first metrics and once when its linger ends (or a
// request fills it), not once per request as a reader of a queue of requests
// would. That is less work per single-metric request, though less than this
// machine's run-to-run noise can show (docs/benchmarks.md).
public sealed class MetricBatcher(IBus bus, IOptions<IngestionOptions> options, IngestionMetrics metrics, ILogger<MetricBatcher> logger)
    : BackgroundService
{
    private readonly IngestionOptions _options = options.Value;
    private readonly Lock _gate = new();

    // Guarded by _gate: the message requests are joining, full messages waiting
    // for a publisher (oldest first), and the forming publisher's wake-up.
    private OpenMessage _open = new();
    private readonly Queue<OpenMessage> _full = new();
    private TaskCompletionSource? _wake;
    private bool _closed;

    // One publisher at a time forms the next message; the others are sending theirs.
    private readonly SemaphoreSlim _forming = new(1, 1);
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

        var parent = Activity.Current?.Context;
        TaskCompletionSource? wake = null;
        Task completion;
        lock (_gate)
        {
            if (_closed)
            {
                Interlocked.Add(ref _pendingMetrics, -points.Length);
                throw new IngestionUnavailableException("Ingestion is shutting down.", TimeSpan.FromSeconds(5));
            }

            if (_open.Count > 0 && _open.Count + points.Length > _options.MaxMetricsPerMessage) _full.Enqueue(TakeOpen());

            var first = _open.Count == 0;
            _open.Add(points, source, parent, _options.Linger);
            completion = _open.Completion.Task;
            if (_open.Count >= _options.MaxMetricsPerMessage) _full.Enqueue(TakeOpen());

            // The forming publisher waits either for a first metric or, lingering,
            // for a full message; anything else it finds when it wakes.
            if (first || _full.Count > 0)
            {
                wake = _wake;
                _wake = null;
            }
        }

        wake?.TrySetResult();
        return completion;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Publishers)
            .Select(_ => Task.Run(() => PublishMessagesAsync(stoppingToken), CancellationToken.None)));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop taking requests, then let the publishers send what is already queued.
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _closed = true;
            wake = _wake;
            _wake = null;
        }

        wake?.TrySetResult();
        await base.StopAsync(cancellationToken);
    }

    private async Task PublishMessagesAsync(CancellationToken stoppingToken)
    {
        while (await NextMessageAsync() is { } message)
        {
            await PublishMessageAsync(message, stoppingToken);
        }
    }

    // The next message to send: a full one, or the open one once its linger
    // (from its first metrics) has passed. Null once ingestion has stopped and
    // everything taken has been handed out. While every publisher is sending,
    // nobody forms a message, so the open one grows as full as the load makes it.
    private async Task<OpenMessage?> NextMessageAsync()
    {
        await _forming.WaitAsync(CancellationToken.None);
        try
        {
            while (true)
            {
                Task woken;
                TimeSpan? linger = null;
                lock (_gate)
                {
                    if (_full.TryDequeue(out var full)) return full;
                    if (_open.Count > 0)
                    {
                        // Under a millisecond is due: Task.Delay counts whole milliseconds,
                        // and would return at once, again and again, until the deadline.
                        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _open.Deadline);
                        if (remaining < TimeSpan.FromMilliseconds(1) || _closed) return TakeOpen();

                        linger = remaining;
                    }
                    else if (_closed)
                    {
                        return null;
                    }

                    _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    woken = _wake.Task;
                }

                if (linger is { } wait) await Task.WhenAny(woken, Task.Delay(wait));
                else await woken;
            }
        }
        finally
        {
            _forming.Release();
        }
    }

    // The open message, closed to requests; the next ones open a new one. Under _gate.
    private OpenMessage TakeOpen()
    {
        var taken = _open;
        _open = new OpenMessage();
        return taken;
    }

    private async Task PublishMessageAsync(OpenMessage message, CancellationToken stoppingToken)
    {
        var count = message.Count;
        var points = new MetricPoint[count];
        var offset = 0;
        foreach (var part in message.Parts)
        {
            part.CopyTo(points, offset);
            offset += part.Length;
        }

        var failure = await SendAsync(message, points, stoppingToken);
        // Before the requests are answered: their metrics are no longer pending.
        Interlocked.Add(ref _pendingMetrics, -count);
        if (failure is null) message.Completion.TrySetResult();
        else message.Completion.TrySetException(failure);
    }

    // Null once the broker has confirmed the message; otherwise what its requests are told.
    private async Task<IngestionUnavailableException?> SendAsync(OpenMessage message, MetricPoint[] points, CancellationToken stoppingToken)
    {
        var count = points.Length;
        using var activity = StartPublishActivity(message);
        activity.SetTag("contentmax.metrics.count", count);
        activity.SetTag("contentmax.requests.count", message.Parts.Count);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            // The compact binary form: a fraction of the cost of thousands of
            // objects as JSON, on both sides of the broker. Mandatory: the broker
            // confirms a message no queue takes like any other, unless told to
            // return it; returned, it fails here and its requests get a 503.
            await bus.Publish(new MetricsBatchReceived { Packed = MetricBatchCodec.Encode(points), Source = message.Source! }, Mandatory, timeout.Token);
            metrics.MetricsPublished.Add(count);
            metrics.MessagesPublished.Add(1);
            metrics.MessageSize.Record(count);
            return null;
        }
        catch (MessageReturnedException ex)
        {
            activity.SetStatus(ActivityStatusCode.Error, "no queue bound");
            logger.LogError("The broker returned {Count} metrics: no queue is bound to the message's exchange ({Error})", count, ex.InnerException?.Message);
            metrics.MetricsRejected.Add(count, new KeyValuePair<string, object?>("reason", "unroutable"));
            return new IngestionUnavailableException("The message broker has no queue for metrics.", TimeSpan.FromSeconds(5), ex);
        }
        catch (Exception ex)
        {
            activity.SetStatus(ActivityStatusCode.Error, "broker unavailable");
            logger.LogWarning("Publishing {Count} metrics failed: {Error}", count, ex.GetType().Name);
            metrics.MetricsRejected.Add(count, new KeyValuePair<string, object?>("reason", "broker_unavailable"));
            return new IngestionUnavailableException("The message broker is unavailable.", TimeSpan.FromSeconds(5), ex);
        }
    }

    private static readonly IPipe<PublishContext<MetricsBatchReceived>> Mandatory =
        Pipe.Execute<PublishContext<MetricsBatchReceived>>(context => context.Mandatory = true);

    // The message continues the trace of the first request whose span is
    // recorded (requests on the ingest route are sampled) and links the other
    // recorded ones, so a trace runs from the HTTP request through the broker
    // to storage. When none is recorded, an unrecorded activity takes the
    // first request's place: the broker send and the consumer follow it, so
    // the whole message is left out of traces as its requests were. Requests
    // that the connection lane left out of the sample have no span at all; their
    // message gets an unrecorded root of its own, or the broker send would
    // start a sampled trace for every message.
    private static Activity StartPublishActivity(OpenMessage message)
    {
        if (message.Recorded is { Count: > 0 } recorded
            && ContentMaxTelemetry.ActivitySource.StartActivity("metrics publish", ActivityKind.Internal, recorded[0],
                links: recorded.Skip(1).Select(c => new ActivityLink(c))) is { } sampled)
        {
            return sampled;
        }

        var unrecorded = new Activity("metrics publish");
        if (message.FirstParent is { } first) unrecorded.SetParentId(first.TraceId, first.SpanId, ActivityTraceFlags.None);
        return unrecorded.Start();
    }

    // The metrics of the requests one broker message will carry, and the one
    // completion they all await. Changed only under the batcher's lock.
    private sealed class OpenMessage
    {
        public List<MetricPoint[]> Parts { get; } = [];

        public int Count { get; private set; }

        // Which protocol its requests came in by: Sources.Mixed when they differ.
        public string? Source { get; private set; }

        public ActivityContext? FirstParent { get; private set; }

        // Trace contexts of the requests whose spans are recorded, in arrival order.
        public List<ActivityContext>? Recorded { get; private set; }

        // When it stops waiting for more (Stopwatch timestamp): its linger after its first metrics.
        public long Deadline { get; private set; }

        // The continuations run on the thread pool, not on the publisher's thread.
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(MetricPoint[] points, string source, ActivityContext? parent, TimeSpan linger)
        {
            if (Count == 0)
            {
                Deadline = Stopwatch.GetTimestamp() + (long)(linger.TotalSeconds * Stopwatch.Frequency);
                FirstParent = parent;
                Source = source;
            }
            else if (Source != source)
            {
                Source = Sources.Mixed;
            }

            if (parent is { } context && context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded))
            {
                (Recorded ??= []).Add(context);
            }

            Parts.Add(points);
            Count += points.Length;
        }
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
