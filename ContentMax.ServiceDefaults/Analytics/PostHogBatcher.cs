using System.Threading.Channels;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;

namespace ContentMax.ServiceDefaults.Analytics;

// Delivers events to PostHog's /batch/ endpoint off the request path. Enqueue
// is a synchronous TryWrite into a bounded queue and never throws; a full
// queue drops the new event and counts it. A batch leaves when FlushAt events
// wait or FlushInterval passes. Sending is the posthog-batch resilience
// pipeline: 5xx, 408, 429 and timeouts are retried with exponential backoff
// (429 waits Retry-After); other 4xx are dropped at once.
// Stopping drains the queue for at most ShutdownTimeout.
public sealed class PostHogBatcher : BackgroundService
{
    private readonly PostHogOptions _options;
    private readonly PostHogApi _api;
    private readonly PostHogMetrics _metrics;
    private readonly ILogger<PostHogBatcher> _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline<HttpResponseMessage> _delivery;
    private readonly Channel<PostHogEvent> _queue;
    private readonly CancellationTokenSource _abort = new();
    private volatile bool _stopping;

    // Without the registered pipeline (tests, tools): the same definition, without Polly's telemetry.
    public PostHogBatcher(PostHogOptions options, PostHogApi api, PostHogMetrics metrics, ILogger<PostHogBatcher> logger, TimeProvider time)
        : this(options, api, metrics, logger, time,
            new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }.AddPostHogBatch(options, time).Build())
    {
    }

    public PostHogBatcher(
        PostHogOptions options, PostHogApi api, PostHogMetrics metrics, ILogger<PostHogBatcher> logger, TimeProvider time, ResiliencePipeline<HttpResponseMessage> delivery)
    {
        _delivery = delivery;
        _options = options;
        _api = api;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _queue = Channel.CreateBounded<PostHogEvent>(new BoundedChannelOptions(options.MaxQueueSize)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of evicting older events.
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public int QueuedCount => _queue.Reader.Count;

    public bool TryEnqueue(PostHogEvent item)
    {
        if (_queue.Writer.TryWrite(item))
        {
            return true;
        }

        _metrics.AddDropped(1, _stopping ? "shutdown" : "queue_full");
        return false;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // No new events; deliver what is queued, within the shutdown window.
        _stopping = true;
        _queue.Writer.TryComplete();
        if (ExecuteTask is { } running)
        {
            using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            window.CancelAfter(_options.ShutdownTimeout);
            try
            {
                await running.WaitAsync(window.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("PostHog: the event queue was not drained within {Timeout}; the remaining events are dropped.", _options.ShutdownTimeout);
                await _abort.CancelAsync().ConfigureAwait(false);
            }
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // stoppingToken fires only after StopAsync's drain window (or when the
        // host gives up); until then a stopping service keeps delivering.
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _abort.Token);
        var reader = _queue.Reader;
        var batch = new List<PostHogEvent>(_options.MaxBatchSize);
        try
        {
            while (!reader.Completion.IsCompleted)
            {
                await FillAsync(batch, abort.Token).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    try
                    {
                        await SendAsync(batch, abort.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Analytics must never take the service down.
                        _logger.LogError(e, "PostHog: sending a batch of {Count} events failed unexpectedly; it is dropped.", batch.Count);
                        _metrics.AddDropped(batch.Count, "error");
                    }

                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            var left = batch.Count;
            while (reader.TryRead(out _))
            {
                left++;
            }

            if (left > 0)
            {
                _metrics.AddDropped(left, "shutdown");
            }
        }
    }

    // Waits until FlushAt events are queued, FlushInterval has passed or the
    // queue is closed, then takes whatever else is already waiting (up to a batch).
    private async Task FillAsync(List<PostHogEvent> batch, CancellationToken abort)
    {
        var reader = _queue.Reader;
        var deadline = _time.GetUtcNow() + _options.FlushInterval;
        while (batch.Count < _options.FlushAt)
        {
            if (reader.TryRead(out var item))
            {
                batch.Add(item);
                continue;
            }

            var wait = deadline - _time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
            {
                break;
            }

            using var interval = CancellationTokenSource.CreateLinkedTokenSource(abort);
            interval.CancelAfter(wait);
            try
            {
                if (!await reader.WaitToReadAsync(interval.Token).ConfigureAwait(false))
                {
                    break; // Closed and empty.
                }
            }
            catch (OperationCanceledException) when (!abort.IsCancellationRequested)
            {
                break; // The interval is up.
            }
        }

        while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var more))
        {
            batch.Add(more);
        }
    }

    private async Task SendAsync(List<PostHogEvent> batch, CancellationToken abort)
    {
        byte[] body;
        try
        {
            body = PostHogApi.BatchBody(_options.ProjectApiKey!, batch);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError(e, "PostHog: a batch of {Count} events could not be serialized and is dropped.", batch.Count);
            _metrics.AddDropped(batch.Count, "unserializable");
            return;
        }

        // Retries, their delays and the timeout of each attempt are the posthog-batch pipeline's (ContentMaxResilience).
        var attempts = 0;
        string failure;
        var context = ResilienceContextPool.Shared.Get(abort);
        context.Properties.Set(ContentMaxResilience.OnRetry, retry =>
        {
            _logger.LogDebug("PostHog: batch of {Count} events failed ({Failure}); retrying in {Delay}.", batch.Count, Describe(retry.Outcome), retry.RetryDelay);
            _metrics.AddRetried(batch.Count);
            return ValueTask.CompletedTask;
        });
        try
        {
            using var response = await _delivery.ExecuteAsync(async (attempt, state) =>
            {
                attempts++;
                return await state.Api.PostBatchAsync(state.Body, attempt.CancellationToken).ConfigureAwait(false);
            }, context, (Api: _api, Body: body)).ConfigureAwait(false);

            if (response.IsSuccessStatusCode)
            {
                _metrics.AddSent(batch.Count);
                return;
            }

            if (!ContentMaxResilience.IsTransient(Outcome.FromResult(response), context))
            {
                // The request itself is wrong (bad key, bad payload): sending it again cannot help.
                _logger.LogWarning("PostHog rejected a batch of {Count} events with {Status}; they are dropped.", batch.Count, (int)response.StatusCode);
                _metrics.AddDropped(batch.Count, "rejected");
                return;
            }

            failure = $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException || (e is OperationCanceledException && !abort.IsCancellationRequested))
        {
            failure = Describe(Outcome.FromException<HttpResponseMessage>(e));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        _logger.LogWarning("PostHog: a batch of {Count} events failed {Attempts} times (last: {Failure}); it is dropped.", batch.Count, attempts, failure);
        _metrics.AddDropped(batch.Count, "retries_exhausted");
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { } response } => $"HTTP {(int)response.StatusCode}",
        { Exception: HttpRequestException e } => e.HttpRequestError.ToString(),
        _ => "timeout",
    };
}
