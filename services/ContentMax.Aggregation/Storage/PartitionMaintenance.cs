using System.ComponentModel.DataAnnotations;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentMax.Aggregation.Storage;

// How long each tier is kept. Whole partitions are dropped once all of their
// rows are older than this; nothing is deleted row by row.
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    // Raw points: what /api/metrics/raw, breakdowns, exact percentiles and the
    // partial minutes at the edges of a period read.
    [Range(typeof(TimeSpan), "8.00:00:00", "3650.00:00:00")]
    public TimeSpan Raw { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Minute { get; set; } = TimeSpan.FromDays(90);

    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Hour { get; set; } = TimeSpan.FromDays(730);

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    // How long stored message ids, client point ids and the last point of each
    // cumulative series are kept: longer than any redelivery and than the
    // oldest point MetricRules accepts (7 days), so a re-send within that time
    // is always recognised. A cumulative series idle for longer starts again
    // from a baseline.
    [Range(typeof(TimeSpan), "8.00:00:00", "365.00:00:00")]
    public TimeSpan Deduplication { get; set; } = TimeSpan.FromDays(8);
}

// Keeps the time partitions of metrics and both rollup tables ahead of the
// clock (three days of them exist before they are needed) and drops those past
// retention: at startup, then every Interval (BackgroundLoop: a failure backs
// off and retries, and /health shows a loop that stopped). One replica at a
// time does it.
public sealed class PartitionMaintenance(
    NpgsqlDataSource dataSource, IOptions<RetentionOptions> options, TimeProvider time, ILogger<PartitionMaintenance> logger,
    ErrorReporter? errors = null, BackgroundLoops? loops = null) : BackgroundService
{
    // Another constant among the database's advisory locks.
    private const long LockKey = 0x436f6e74_50617274; // "ContPart"

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoop.RunAsync("partition-maintenance", async cancellationToken =>
        {
            await RunOnceAsync(cancellationToken);
            return options.Value.Interval;
        }, logger, errors, time, stoppingToken, loops);

    public async Task<List<string>> RunOnceAsync(CancellationToken cancellationToken)
    {
        var retention = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Creating or dropping a partition locks its parent briefly; never wait long for it.
        await using (var timeout = new NpgsqlCommand("SET LOCAL lock_timeout = '5s'", connection, transaction))
        {
            await timeout.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var guard = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(" + LockKey + ")", connection, transaction))
        {
            if (!(bool)(await guard.ExecuteScalarAsync(cancellationToken))!) return [];
        }

        var actions = new List<string>();
        await using (var maintain = new NpgsqlCommand("SELECT maintain_partitions($1, $2, $3)", connection, transaction))
        {
            maintain.Parameters.Add(new NpgsqlParameter { Value = retention.Raw });
            maintain.Parameters.Add(new NpgsqlParameter { Value = retention.Minute });
            maintain.Parameters.Add(new NpgsqlParameter { Value = retention.Hour });
            await using var reader = await maintain.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) actions.Add(reader.GetString(0));
        }

        // Day and quarter rollups and the deduplication tables are not partitioned; their
        // old rows go row by row. (Alerting trims its own: AlertRetention.)
        await using (var trim = new NpgsqlBatch(connection, transaction))
        {
            trim.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM metric_rollups_day WHERE bucket < now() - $1")
            {
                Parameters = { new NpgsqlParameter { Value = retention.Hour } },
            });
            trim.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM metric_rollups_tagged_day WHERE bucket < now() - $1")
            {
                Parameters = { new NpgsqlParameter { Value = retention.Hour } },
            });
            trim.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM metric_rollups_tagged_quarter WHERE bucket < now() - $1")
            {
                Parameters = { new NpgsqlParameter { Value = retention.Minute } },
            });
            foreach (var sql in new[]
                     {
                         "DELETE FROM stored_messages WHERE stored_at < now() - $1",
                         "DELETE FROM metric_ids WHERE stored_at < now() - $1",
                         "DELETE FROM cumulative_series WHERE updated_at < now() - $1",
                     })
            {
                trim.BatchCommands.Add(new NpgsqlBatchCommand(sql) { Parameters = { new NpgsqlParameter { Value = retention.Deduplication } } });
            }

            await trim.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        foreach (var action in actions) logger.LogInformation("Partition maintenance: {Action}.", action);
        return actions;
    }
}
