using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Logging;

namespace ContentMax.ServiceDefaults;

// The one loop of every periodic background job. Each round runs `round`,
// which returns how long to wait before the next (zero: go on at once; Done:
// the loop ends). The wait is spread by ±jitter (a fraction) so replicas do not
// run in step. An exception (anything but the service stopping) is logged,
// reported to Sentry once per kind of failure in a row (unless it is an outage
// of something the job depends on: see IsOutage), and followed by a
// backoff that doubles from 1 s to 1 min; the next success resets it. So a bug
// or an outage pauses the work, never stops the host. With `loops`, each round
// is recorded there, and /health turns Degraded when the loop stops cycling.
public static class BackgroundLoop
{
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LongestBackoff = TimeSpan.FromMinutes(1);

    // What a round returns to end the loop for good.
    public static readonly TimeSpan Done = Timeout.InfiniteTimeSpan;

    // The database restarting, a refused connection, a timeout: the job's
    // dependencies being away, which health checks and alerts already report.
    // Logged and retried, but not sent to Sentry, which is for bugs.
    public static bool IsOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or System.Net.Sockets.SocketException or HttpRequestException) return true;
            if (e is System.Data.Common.DbException db
                && (db.IsTransient || db.SqlState is { } state && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57", StringComparison.Ordinal))))
            {
                return true;
            }
        }

        return false;
    }

    public static async Task RunAsync(
        string name,
        Func<CancellationToken, Task<TimeSpan>> round,
        ILogger logger,
        ErrorReporter? errors,
        TimeProvider time,
        CancellationToken stoppingToken,
        BackgroundLoops? loops = null,
        double jitter = 0)
    {
        var backoff = TimeSpan.Zero;
        string? lastFailure = null;
        loops?.Cycled(name, TimeSpan.Zero, failure: null);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan wait;
                try
                {
                    wait = await round(stoppingToken).ConfigureAwait(false);
                    if (wait == Done) return;
                    backoff = TimeSpan.Zero;
                    lastFailure = null;
                    wait = Jittered(wait, jitter);
                    loops?.Cycled(name, wait, failure: null);
                }
                catch (Exception) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
                    wait = backoff;
                    var failure = ex.GetType().FullName;
                    logger.LogWarning(ex, "{Loop} failed ({Error}: {Message}); trying again in {Backoff}.", name, ex.GetType().Name, ex.Message, Duration.Format(backoff));
                    loops?.Cycled(name, wait, failure: $"{ex.GetType().Name}: {ex.Message}");
                    if (failure != lastFailure)
                    {
                        if (!IsOutage(ex)) errors?.CaptureError(ex, new Dictionary<string, string> { ["component"] = name });
                        lastFailure = failure;
                    }
                }

                if (wait <= TimeSpan.Zero) continue;
                try
                {
                    await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            loops?.Ended(name);
        }
    }

    private static TimeSpan Jittered(TimeSpan wait, double jitter) =>
        jitter <= 0 || wait <= TimeSpan.Zero ? wait : wait * (1 - jitter + Random.Shared.NextDouble() * 2 * jitter);
}
