using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Logging;

namespace ContentMax.ServiceDefaults;

// The loop of a background service that must outlive anything its work
// throws. Each round runs `round`; an exception (anything but the service
// stopping) is logged, reported to Sentry once per kind of failure in a row,
// and followed by a backoff that doubles from 1 s to 1 min; the next success
// resets it. So a bug or an outage pauses the work, never stops the host.
public static class BackgroundLoop
{
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LongestBackoff = TimeSpan.FromMinutes(1);

    // `round` returns how long to wait before the next round (zero: go on at once).
    public static async Task RunAsync(
        string name,
        Func<CancellationToken, Task<TimeSpan>> round,
        ILogger logger,
        ErrorReporter? errors,
        TimeProvider time,
        CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        string? lastFailure = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await round(stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.Zero;
                lastFailure = null;
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
                if (failure != lastFailure)
                {
                    errors?.CaptureError(ex, new Dictionary<string, string> { ["component"] = name });
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
}
