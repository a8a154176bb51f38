using System.Diagnostics;
using System.Threading.Channels;
using ContentMax.Contracts;
using ContentMax.HealthProbe.Checks;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ContentMax.HealthProbe;

// Runs every check on its own timer with a timeout, records the result, and on
// every status change stores a transition and publishes HealthStatusChanged.
// A check that is still hanging from its last run is not started again: it is
// reported as timed out until it returns.
public sealed class HealthProber(
    ProbeCatalog catalog,
    HealthState state,
    HealthHistoryStore history,
    IBus bus,
    IOptions<HealthProbeOptions> options,
    TimeProvider time,
    ILogger<HealthProber> logger) : BackgroundService
{
    private readonly Channel<HealthStatusChanged> _changes = Channel.CreateBounded<HealthStatusChanged>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.Checks.Select(c => ProbeLoopAsync(c, stoppingToken)).Append(PublishLoopAsync(stoppingToken)));

    private async Task ProbeLoopAsync(IHealthProbeCheck check, CancellationToken stoppingToken)
    {
        var timeout = options.Value.Timeout;
        Task<ProbeOutcome>? running = null;
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        do
        {
            var started = Stopwatch.GetTimestamp();
            ProbeOutcome outcome;
            if (running is { IsCompleted: false })
            {
                outcome = ProbeOutcome.Failure($"timed out after {timeout.TotalSeconds:0.#}s");
            }
            else
            {
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                cancel.CancelAfter(timeout);
                running = RunAsync(check, cancel.Token);
                try
                {
                    outcome = await running.WaitAsync(timeout, stoppingToken);
                }
                catch (TimeoutException)
                {
                    outcome = ProbeOutcome.Failure($"timed out after {timeout.TotalSeconds:0.#}s");
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }

            Record(check, outcome, Stopwatch.GetElapsedTime(started));
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private async Task<ProbeOutcome> RunAsync(IHealthProbeCheck check, CancellationToken cancellationToken)
    {
        try
        {
            return await check.RunAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            return ProbeOutcome.Failure(ProbeErrors.Describe(ex, options.Value.Timeout));
        }
    }

    private void Record(IHealthProbeCheck check, ProbeOutcome outcome, TimeSpan latency)
    {
        var now = time.GetUtcNow();
        var previous = state.Get(check.Name);
        var status = outcome.Ok ? HealthStatus.Healthy : HealthStatusRules.FailureStatus(check.Group);
        var error = outcome.Ok ? null : $"{check.Name}: {outcome.Error}";
        state.Set(new CheckState(check.Name, check.Group, status, Math.Round(latency.TotalMilliseconds, 2), now,
            outcome.Ok ? now : previous.LastSuccess, error, outcome.Ok ? 0 : previous.ConsecutiveFailures + 1));

        if (status == previous.Status) return;
        logger.LogInformation("Health check {Check}: {Previous} → {Status}", check.Name, previous.Status, status);
        var change = new HealthStatusChanged
        {
            Check = check.Name,
            Group = check.Group,
            PreviousStatus = previous.Status,
            Status = status,
            ChangedAt = now,
            Error = error,
            ConsecutiveFailures = outcome.Ok ? 0 : previous.ConsecutiveFailures + 1,
        };
        history.Add(change);
        _changes.Writer.TryWrite(change);
    }

    // Publishing happens off the probe loops: a down broker must not stall the checks.
    private async Task PublishLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                while (!stoppingToken.IsCancellationRequested)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    try
                    {
                        await bus.Publish(change, timeout.Token);
                        break;
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        logger.LogWarning("Publishing HealthStatusChanged for {Check} failed ({Error}); retrying.", change.Check, ex.GetType().Name);
                        await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
