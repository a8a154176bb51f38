using System.Diagnostics;
using ContentMax.HealthProbe.Checks;

namespace ContentMax.HealthProbe;

// Runs one check with its timeout. A run that outlives the timeout is cancelled
// and reported as timed out at once, without waiting for it to give up: a
// frozen server can ignore cancellation for a long time. Until that run has
// really returned no second one starts, so a hung dependency holds one pending
// call, not one more per interval.
public sealed class CheckRunner(IHealthProbeCheck check, TimeSpan timeout)
{
    private Task<ProbeOutcome>? _running;
    private long _startedAt;

    public IHealthProbeCheck Check => check;

    public TimeSpan Timeout => timeout;

    // The outcome of this round and how long the check had been running.
    public async Task<(ProbeOutcome Outcome, TimeSpan Latency)> RunOnceAsync(CancellationToken stoppingToken)
    {
        if (_running is { IsCompleted: false })
        {
            return (ProbeOutcome.Failure(ProbeErrors.TimedOut(timeout)), Stopwatch.GetElapsedTime(_startedAt));
        }

        _startedAt = Stopwatch.GetTimestamp();
        // Task.Run: a check that blocks before its first await must not block the probe loop.
        var running = _running = Task.Run(() => RunAsync(stoppingToken), CancellationToken.None);
        try
        {
            var outcome = await running.WaitAsync(timeout, stoppingToken);
            // A check that ended because the service is stopping says nothing about its target,
            // however it ended (it may even have finished before the wait began).
            stoppingToken.ThrowIfCancellationRequested();
            return (outcome, Stopwatch.GetElapsedTime(_startedAt));
        }
        catch (TimeoutException)
        {
            return (ProbeOutcome.Failure(ProbeErrors.TimedOut(timeout)), Stopwatch.GetElapsedTime(_startedAt));
        }
    }

    // The cancellation source lives as long as the run, not as long as the wait
    // for it: disposing it early would also cancel its timer, and a hung call
    // would then never be told to stop.
    private async Task<ProbeOutcome> RunAsync(CancellationToken stoppingToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        cancel.CancelAfter(timeout);
        try
        {
            return await check.RunAsync(cancel.Token);
        }
        catch (Exception ex)
        {
            return ProbeOutcome.Failure(ProbeErrors.Describe(ex, timeout));
        }
    }
}
