using System.Threading.Channels;
using ContentMax.Contracts;
using ContentMax.HealthProbe.Checks;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using ContentMax.ServiceDefaults.Resilience;
using MassTransit;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;

namespace ContentMax.HealthProbe;

// Runs every check on its own BackgroundLoop, records the latest result, and on every
// status change stores a transition and publishes HealthStatusChanged.
public sealed class HealthProber(
    ProbeCatalog catalog,
    HealthState state,
    HealthHistoryStore history,
    IBus bus,
    IOptions<HealthProbeOptions> options,
    TimeProvider time,
    ResiliencePipelineProvider<string> pipelines,
    BackgroundLoops loops,
    ErrorReporter errors,
    ILogger<HealthProber> logger) : BackgroundService
{
    private const int PublishQueueLimit = 1_000;

    private readonly ResiliencePipeline _publish = pipelines.GetPipeline(ContentMaxResilience.HealthStatusPublish);

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

    // Runs start Interval apart, however long each took (a run is bounded by its timeout).
    private Task ProbeLoopAsync(CheckRunner runner, CancellationToken stoppingToken) =>
        BackgroundLoop.RunAsync($"health-probe:{runner.Check.Name}", async cancellationToken =>
        {
            var started = time.GetUtcNow();
            var (outcome, latency) = await runner.RunOnceAsync(cancellationToken);
            Record(runner.Check, outcome, latency);
            var next = options.Value.Interval - (time.GetUtcNow() - started);
            return next > TimeSpan.Zero ? next : TimeSpan.Zero;
        }, logger, errors, time, stoppingToken, loops);

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
    // checks. Each change gets the health-status-publish pipeline's attempts
    // (ContentMaxResilience: 3, each at most 5 s) and is then dropped with a
    // warning: it is still in the stored history, and a broker that is down is
    // itself reported by the messaging check.
    private async Task PublishLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                var attempts = 0;
                try
                {
                    await _publish.ExecuteAsync(async cancellationToken =>
                    {
                        attempts++;
                        await bus.Publish(change, cancellationToken);
                    }, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Dropped HealthStatusChanged for {Check} ({Previous} → {Status}) after {Attempts} failed publishes ({Error}).",
                        change.Check, change.PreviousStatus, change.Status, attempts, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
