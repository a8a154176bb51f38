using System.Diagnostics;
using ContentMax.Contracts;
using ContentMax.Monitoring.Client.Aggregation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client.Delivery;

// The client's two loops and its shutdown.
//   flush: every FlushInterval the aggregator's points go into the buffer.
//   send:  batches of at most MaxPointsPerRequest leave in order. A batch that
//          cannot be delivered stays at the head and is sent again, byte for
//          byte the same points and ids, with backoff (1 s doubling up to
//          RetryMaxDelay, ±20%) or after the server's Retry-After, for as long
//          as the outage lasts; meanwhile new points wait behind it within the
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

    private async Task DeliverAsync(List<MetricPoint> batch, CancellationToken abort)
    {
        for (var attempt = 0; ; attempt++)
        {
            DropInvalid(batch);
            if (batch.Count == 0) return;

            var result = await AttemptAsync(batch, abort).ConfigureAwait(false);
            switch (result.Status)
            {
                case DeliveryStatus.Delivered:
                    _metrics.AddSent(batch.Count);
                    _buffer.Release(batch.Count);
                    if (_failing)
                    {
                        _failing = false;
                        LogRecovered(_logger, _target, attempt);
                    }

                    return;
                case DeliveryStatus.Rejected:
                    _metrics.AddDropped(batch.Count, ClientMetrics.Rejected);
                    _buffer.Release(batch.Count);
                    if (_rejections++ == 0) LogRejected(_logger, batch.Count, result.Detail);
                    else LogRejectedAgain(_logger, batch.Count, result.Detail);
                    return;
                case DeliveryStatus.Retry when _lastChance:
                    _metrics.AddDropped(batch.Count, ClientMetrics.Shutdown);
                    _buffer.Release(batch.Count);
                    return;
                default:
                    _metrics.AddRetried();
                    var delay = result.RetryAfter ?? Backoff(attempt);
                    if (!_failing)
                    {
                        _failing = true;
                        LogFailing(_logger, _target, result.Detail, _buffer.Waiting + batch.Count);
                    }

                    await Task.Delay(delay, _time, abort).ConfigureAwait(false);
                    break;
            }
        }
    }

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

    // 1 s doubling, ±20% so that many instances do not retry in step, capped.
    private TimeSpan Backoff(int attempt)
    {
        var exponential = 1000 * Math.Pow(2, Math.Min(attempt, 20));
        var jittered = exponential * (0.8 + Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _options.RetryMaxDelay.TotalMilliseconds));
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: cannot deliver metrics to {Target} ({Detail}); retrying with backoff while {Waiting} points wait.")]
    private static partial void LogFailing(ILogger logger, string target, string detail, int waiting);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information,
        Message = "ContentMax Monitoring: delivering metrics to {Target} again after {Attempts} failed attempts.")]
    private static partial void LogRecovered(ILogger logger, string target, int attempts);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: the server refused a batch of {Count} points ({Detail}); they are dropped and counted (reason rejected). Later refusals are logged at Debug.")]
    private static partial void LogRejected(ILogger logger, int count, string detail);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug,
        Message = "ContentMax Monitoring: the server refused a batch of {Count} points ({Detail}); they are dropped.")]
    private static partial void LogRejectedAgain(ILogger logger, int count, string detail);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: {Count} points no longer pass the server's rules and are dropped (first: {Problem}).")]
    private static partial void LogDroppedInvalid(ILogger logger, int count, string problem);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: not everything was delivered within the shutdown window ({Timeout}); {Left} series and points are dropped (reason shutdown).")]
    private static partial void LogShutdownTimeout(ILogger logger, TimeSpan timeout, int left);

    [LoggerMessage(EventId = 17, Level = LogLevel.Error,
        Message = "ContentMax Monitoring: forming the interval's points failed unexpectedly; they are lost.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error,
        Message = "ContentMax Monitoring: delivering a batch of {Count} points failed unexpectedly; it is dropped.")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, int count);
}
