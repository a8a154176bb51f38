using System.Diagnostics;
using ContentMax.Contracts;
using ContentMax.Monitoring.Client.Aggregation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace ContentMax.Monitoring.Client.Delivery;

// The client's two loops and its shutdown.
//   flush: every FlushInterval the aggregator's points go into the buffer.
//   send:  batches of at most MaxPointsPerRequest leave in order. A batch that
//          cannot be delivered stays at the head and is sent again, byte for
//          byte the same points and ids, with backoff (1 s doubling up to
//          RetryMaxDelay, ±20%) or after the server's Retry-After, for as long
//          as the outage lasts (a Polly retry pipeline, without Polly's own
//          telemetry: the client's counters and logs report it in the user's app); meanwhile new points wait behind it within the
//          buffer's bound. A refused batch is dropped, counted and logged.
// Stopping flushes the partial interval and delivers what is buffered within
// ShutdownTimeout before any other service stops (a MassTransit bus among
// them); once the host has stopped (the web server has drained its last
// requests), whatever those recorded gets one more attempt.
//
// It is a lifecycle service rather than a BackgroundService because its
// shutdown has those two steps.
internal sealed partial class MetricsDelivery : IHostedLifecycleService, IDisposable
{
    private readonly MetricAggregator _aggregator;
    private readonly PointBuffer _buffer;
    private readonly IMetricsTransport _transport;
    private readonly ClientMetrics _metrics;
    private readonly ContentMaxMonitoringOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _target;
    private readonly CancellationTokenSource _stopFlushing = new();
    private readonly CancellationTokenSource _abort = new();
    private Task _flushing = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private bool _failing;
    private bool _deliveredAtStop;
    private volatile bool _lastChance;
    private int _rejections;

    // What an attempt returns when no point of the batch is left to send.
    private static readonly DeliveryResult Nothing = new(DeliveryStatus.Delivered, "nothing left to send");
    private static readonly ResiliencePropertyKey<List<MetricPoint>> Waiting = new("contentmax.batch");
    private readonly ResiliencePipeline<DeliveryResult> _retries;

    public MetricsDelivery(MetricAggregator aggregator, PointBuffer buffer, IMetricsTransport transport, ClientMetrics metrics,
        IOptions<ContentMaxMonitoringOptions> options, TimeProvider time, ILogger<MetricsDelivery> logger)
    {
        _aggregator = aggregator;
        _buffer = buffer;
        _transport = transport;
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _target = _options.Transport == ContentMaxMonitoringOptions.HttpTransport ? $"{_options.Endpoint}" : $"the {_options.Transport} transport";
        _retries = Retries();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _flushing = FlushPeriodicallyAsync(_stopFlushing.Token);
        _sending = Task.Run(() => SendAsync(_abort.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Before any service stops: the bus a transport publishes through, and the
    // web server, are still up.
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopFlushing.CancelAsync().ConfigureAwait(false);
        await _flushing.ConfigureAwait(false);
        Flush();
        _deliveredAtStop = await WaitUntilSentAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // After every service stopped: what requests finishing during the web
    // server's drain (or consumers during the bus's) recorded gets one attempt
    // each, as what it was sent through may have stopped too. When the buffer
    // could not be delivered in the first window, it gets no second one.
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _lastChance = true;
        var late = _aggregator.Close(_time.GetUtcNow());
        _metrics.AddDropped(_buffer.Add(late), ClientMetrics.BufferFull);
        _buffer.Complete();
        if (!_deliveredAtStop || !await WaitUntilSentAsync(cancellationToken).ConfigureAwait(false))
        {
            LogShutdownTimeout(_logger, _options.ShutdownTimeout, _buffer.Used - _aggregator.SeriesCount);
            await _abort.CancelAsync().ConfigureAwait(false);
        }

        await _sending.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stopFlushing.Dispose();
        _abort.Dispose();
    }

    // Moves the points of the interval that just ended into the buffer.
    internal void Flush()
    {
        var points = _aggregator.Drain(_time.GetUtcNow());
        if (points.Count == 0) return;
        _metrics.AddDropped(_buffer.Add(points), ClientMetrics.BufferFull);
    }

    private async Task FlushPeriodicallyAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    Flush();
                }
                catch (Exception e)
                {
                    // A bug must cost one interval's points, not every later one.
                    LogFlushFailed(_logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    // Waits, within ShutdownTimeout, until no point is waiting or in flight;
    // false when some still are.
    private async Task<bool> WaitUntilSentAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.ShutdownTimeout.TotalSeconds * Stopwatch.Frequency);
        while (_buffer.Used > _aggregator.SeriesCount)
        {
            if (_sending.IsCompleted || Stopwatch.GetTimestamp() >= deadline || cancellationToken.IsCancellationRequested) return false;
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }

    private async Task SendAsync(CancellationToken abort)
    {
        var batch = new List<MetricPoint>(_options.MaxPointsPerRequest);
        try
        {
            while (await _buffer.WaitAsync(abort).ConfigureAwait(false))
            {
                _buffer.Take(batch, _options.MaxPointsPerRequest);
                try
                {
                    await DeliverAsync(batch, abort).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Metrics must never take the service down.
                    LogUnexpected(_logger, e, batch.Count);
                    _metrics.AddDropped(batch.Count, ClientMetrics.Error);
                    _buffer.Release(batch.Count);
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Given up at shutdown: the batch in hand and everything still waiting.
            _buffer.Release(batch.Count);
            _metrics.AddDropped(batch.Count + _buffer.Clear(), ClientMetrics.Shutdown);
        }
    }

    // The same batch is attempted until it is delivered or refused, as long as
    // the outage lasts, through the retry pipeline (see Retries); each attempt
    // first drops points that no longer pass the server's rules.
    private async Task DeliverAsync(List<MetricPoint> batch, CancellationToken abort)
    {
        var failures = 0;
        var context = ResilienceContextPool.Shared.Get(abort);
        context.Properties.Set(Waiting, batch);
        var result = await _retries.ExecuteAsync(async _ =>
        {
            DropInvalid(batch);
            if (batch.Count == 0) return Nothing;
            var attempt = await AttemptAsync(batch, abort).ConfigureAwait(false);
            if (attempt.Status == DeliveryStatus.Retry) failures++;
            return attempt;
        }, context).ConfigureAwait(false);
        ResilienceContextPool.Shared.Return(context);

        if (ReferenceEquals(result, Nothing)) return;
        switch (result.Status)
        {
            case DeliveryStatus.Delivered:
                _metrics.AddSent(batch.Count);
                _buffer.Release(batch.Count);
                if (_failing)
                {
                    _failing = false;
                    LogRecovered(_logger, _target, failures);
                }

                return;
            case DeliveryStatus.Rejected:
                _metrics.AddDropped(batch.Count, ClientMetrics.Rejected);
                _buffer.Release(batch.Count);
                if (_rejections++ == 0) LogRejected(_logger, batch.Count, result.Detail);
                else LogRejectedAgain(_logger, batch.Count, result.Detail);
                return;
            default: // Retry comes back only once the host has stopped (the last chance).
                _metrics.AddDropped(batch.Count, ClientMetrics.Shutdown);
                _buffer.Release(batch.Count);
                return;
        }
    }

    // Retry answers are tried again: after the server's Retry-After, else 1 s
    // doubling up to RetryMaxDelay, ±20% so that many instances do not retry in
    // step; not once the host has stopped. Counted and logged before each wait.
    private ResiliencePipeline<DeliveryResult> Retries() =>
        new ResiliencePipelineBuilder<DeliveryResult> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<DeliveryResult>
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Status: DeliveryStatus.Retry } && !_lastChance),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Result!.RetryAfter ?? Backoff(args.AttemptNumber)),
                OnRetry = args =>
                {
                    _metrics.AddRetried();
                    if (!_failing)
                    {
                        _failing = true;
                        LogFailing(_logger, _target, args.Outcome.Result!.Detail, _buffer.Waiting + args.Context.Properties.GetValue(Waiting, []).Count);
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    private async Task<DeliveryResult> AttemptAsync(List<MetricPoint> batch, CancellationToken abort)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await _transport.SendAsync(batch, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            return DeliveryResult.Retry($"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return DeliveryResult.Retry($"{e.GetType().Name}: {e.Message}");
        }
    }

    // Points are valid when formed; a point that waited out a week-long outage
    // is too old for the server, and would make it refuse the whole batch.
    private void DropInvalid(List<MetricPoint> batch)
    {
        var errors = MetricRules.Check(batch, _time.GetUtcNow());
        if (errors.Count == 0) return;
        var invalid = errors.Where(e => e.Index is not null).Select(e => e.Index!.Value).ToHashSet();
        var kept = batch.Where((_, i) => !invalid.Contains(i)).ToList();
        var dropped = batch.Count - kept.Count;
        batch.Clear();
        batch.AddRange(kept);
        _metrics.AddDropped(dropped, ClientMetrics.Invalid);
        _buffer.Release(dropped);
        LogDroppedInvalid(_logger, dropped, errors[0].ToString());
    }

    private TimeSpan Backoff(int attempt)
    {
        var exponential = 1000 * Math.Pow(2, Math.Min(attempt, 20));
        var jittered = exponential * (0.8 + Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _options.RetryMaxDelay.TotalMilliseconds));
    }
}
