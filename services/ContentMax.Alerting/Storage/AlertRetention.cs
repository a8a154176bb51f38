using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Npgsql;

namespace ContentMax.Alerting.Storage;

// Keeps alerting's own tables bounded, every hour (±10 %, so replicas do not
// trim in step): SLO minute counts past the longest SLO window (90 days, plus
// a day), delivered or abandoned notifications after 30 days, and the alert
// history and the audit of changes after a year. Deleting the same old rows
// twice is harmless, so replicas need no lock for it.
public sealed class AlertRetention(NpgsqlDataSource dataSource, TimeProvider time, ErrorReporter errors, BackgroundLoops loops, ILogger<AlertRetention> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    private static readonly string[] Trims =
    [
        "DELETE FROM slo_minutes WHERE bucket < now() - interval '91 days'",
        "DELETE FROM alert_notifications WHERE status <> 'pending' AND created_at < now() - interval '30 days'",
        "DELETE FROM alert_history WHERE at < now() - interval '1 year'",
        "DELETE FROM alert_audit WHERE at < now() - interval '1 year'",
    ];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoop.RunAsync("alert-retention", async cancellationToken =>
        {
            var deleted = await TrimAsync(dataSource, cancellationToken);
            if (deleted > 0) logger.LogInformation("Deleted {Count} expired alerting rows.", deleted);
            return Interval;
        }, logger, errors, time, stoppingToken, loops, jitter: 0.1);

    // Returns how many rows went.
    public static async Task<int> TrimAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var sql in Trims) batch.BatchCommands.Add(new NpgsqlBatchCommand(sql));
        return await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
