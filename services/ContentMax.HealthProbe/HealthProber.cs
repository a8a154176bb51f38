using System.Threading.Channels;
using ContentMax.Contracts;
using ContentMax.HealthProbe.Checks;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ContentMax.HealthProbe;

// Runs every check on its own timer, records the latest result, and on every
// status change stores a transition and publishes HealthStatusChanged.
public sealed class HealthProber(
    ProbeCatalog catalog,
    HealthState state,
    HealthHistoryStore history,
    IBus bus,
    IOptions<HealthProbeOptions> options,
    TimeProvider time,
    ILogger<HealthProber> logger) : BackgroundService
{
    private const int PublishQueueLimit = 1_000;
    private const int PublishAttempts = 3;
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<HealthStatusChanged> _changes = Channel.CreateBounded<HealthStatusChanged>(
        new BoundedChannelOptions(PublishQueueLimit) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
        dropped => logger.LogWarning("Dropped HealthStatusChanged for {Check} ({Previous} → {Status}): {Limit} changes already wait for the broker.",
            dropped.Check, dropped.PreviousStatus, dropped.Status, PublishQueueLimit));

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each loop on the thread pool: none may hold up the host's start or another check.
        var loops = catalog.Checks.Select(check =>
            Task.Run(() => ProbeLoopAsync(new CheckRunner(check, check.Timeout ?? options.Value.Timeout), stoppingToken), CancellationToken.None));
        return Task.WhenAll(loops.Append(Task.Run(() => PublishLoopAsync(stoppingToken), CancellationToken.None)));
    }

    private async Task ProbeLoopAsync(CheckRunner runner, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        try
        {
            do
            {
                var (outcome, latency) = await runner.RunOnceAsync(stoppingToken);
                Record(runner.Check, outcome, latency);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Record(IHealthProbeCheck check, ProbeOutcome outcome, TimeSpan latency)
    {
        var now = time.GetUtcNow();
        var previous = state.Get(check.Name);
        var status = outcome.Ok ? HealthStatus.Healthy : HealthStatusRules.FailureStatus(check.Group);
        var error = outcome.Ok ? null : $"{check.Name}: {outcome.Error}";
        var failures = outcome.Ok ? 0 : previous.ConsecutiveFailures + 1;
        state.Set(new CheckState(check.Name, check.Group, status, Math.Round(latency.TotalMilliseconds, 2), now,
            outcome.Ok ? now : previous.LastSuccess, error, failures));

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
            ConsecutiveFailures = failures,
        };
        history.Add(change);
        _changes.Writer.TryWrite(change);
    }

    // Publishing happens off the probe loops, so a down broker cannot stall the
    // checks. Each change gets a few attempts and is then dropped with a
    // warning: it is still in the stored history, and a broker that is down is
    // itself reported by the messaging check.
    private async Task PublishLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                for (var attempt = 1; ; attempt++)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(PublishTimeout);
                    try
                    {
                        await bus.Publish(change, timeout.Token);
                        break;
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        if (attempt == PublishAttempts)
                        {
                            logger.LogWarning("Dropped HealthStatusChanged for {Check} ({Previous} → {Status}) after {Attempts} failed publishes ({Error}).",
                                change.Check, change.PreviousStatus, change.Status, attempt, ex.GetType().Name);
                            break;
                        }

                        await Task.Delay(TimeSpan.FromSeconds(attempt), time, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
