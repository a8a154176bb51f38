using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;

namespace ContentMax.HealthProbe;

// Deletes status changes older than HealthProbe:HistoryRetention (90 days),
// every HistoryTrimInterval (±10 %, so replicas do not trim in step), so
// health_transitions stays bounded however often a check flaps.
public sealed class HealthHistoryRetention(
    HealthHistoryStore history, IOptions<HealthProbeOptions> options, TimeProvider time, ErrorReporter errors, BackgroundLoops loops,
    ILogger<HealthHistoryRetention> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoop.RunAsync("health-history-retention", async cancellationToken =>
        {
            var deleted = await history.TrimAsync(options.Value.HistoryRetention, cancellationToken);
            if (deleted > 0) logger.LogInformation("Deleted {Count} health transitions older than {Retention}.", deleted, Duration.Format(options.Value.HistoryRetention));
            return options.Value.HistoryTrimInterval;
        }, logger, errors, time, stoppingToken, loops, jitter: 0.1);
}
