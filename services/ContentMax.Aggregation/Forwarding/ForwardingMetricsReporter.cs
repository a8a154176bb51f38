using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;

namespace ContentMax.Aggregation.Forwarding;

// Datadog forwarding reports on itself through the product's own pipeline:
// every 15 s it stores its lag, and the failures and skipped points since the
// last report, as ordinary metrics, so the dashboard and alert rules see them.
// Its rounds are a BackgroundLoop: anything unexpected is backed off and reported.
public sealed class ForwardingMetricsReporter(
    DatadogForwarder forwarder,
    MetricStore store,
    IOptions<DatadogOptions> options,
    TimeProvider time,
    ErrorReporter errors,
    BackgroundLoops loops,
    ILogger<ForwardingMetricsReporter> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;

        var last = forwarder.Status;
        var first = true;
        await BackgroundLoop.RunAsync("datadog-forwarding-metrics", async cancellationToken =>
        {
            // The first report is one interval after start.
            if (first)
            {
                first = false;
                return Interval;
            }

            var now = forwarder.Status;
            var timestamp = time.GetUtcNow().ToUnixTimeMilliseconds();
            MetricPoint Point(string name, double value) => new() { Id = Guid.CreateVersion7(), Metric = name, Value = value, Timestamp = timestamp };
            try
            {
                MetricPoint[] points =
                [
                    Point("datadog_forward_lag_seconds", now.LagSeconds),
                    Point("datadog_forward_failures", now.Failures - last.Failures),
                    Point("datadog_points_skipped", now.Skipped - last.Skipped),
                ];
                await store.StoreAsync([new StorageMessage(Guid.CreateVersion7(), points, DeduplicateIds: false)], cancellationToken);
                last = now;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // Expected while Postgres is away: the next round reports the sums since the last stored one.
                logger.LogWarning("Could not record forwarding metrics: {Error}", ex.GetType().Name);
            }

            return Interval;
        }, logger, errors, time, stoppingToken, loops);
    }
}
