using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentMax.Aggregation.Rollups;

// Live traffic writes each minute's and hour's rollups (untagged and tagged) into up to eight shard
// rows (so concurrent consumers do not queue on one row lock); once a bucket is
// closed, its shards are merged into shard 0 here, every minute. Queries then
// read one row per bucket and name instead of eight: a 24h query merges ~1,500
// hour rows less for 20 names, a 30-day one ~100,000. A late point still lands
// in a shard of its bucket and is merged on a later pass (within the horizon).
// Each pass also builds the day rollups of the days that have ended and
// rebuilds those whose hours a late point has changed since (within the
// horizon, which covers MetricRules.MaxAge): a 30-day query then merges 30 day
// rows per name instead of 720 hour rows. It also builds the tagged
// quarter-hour rows of the quarters that have ended, from their merged minutes
// (0017_tagged_quarter_rollups.sql), for charts with 15-minute steps, and
// packs the sketches of the closed quarter, hour and day rows, tagged and not
// (0018_packed_sketches.sql, 0020_packed_rollup_sketches.sql).
// Runs every Aggregation:CompactionInterval (1 min), one replica at a time.
public sealed class RollupCompactor(
    NpgsqlDataSource dataSource, IOptions<AggregationOptions> options, TimeProvider time, ILogger<RollupCompactor> logger,
    ErrorReporter? errors = null, BackgroundLoops? loops = null) : BackgroundService
{
    // Another constant among the database's advisory locks.
    private const long LockKey = 0x436f6e74_436d7063; // "ContCmpc"

    // An hour bucket is closed 62 minutes after it starts (declared before
    // Tiers, whose initialiser reads it).
    private static readonly TimeSpan HourClosed = TimeSpan.FromMinutes(62);

    // (table, its row key without the shard in lock order, how far back to
    // look, how long after its start a bucket counts as closed); in the order
    // storage writes them.
    private static readonly (string Table, string Key, TimeSpan Horizon, TimeSpan Closed)[] Tiers =
    [
        ("metric_rollups_minute", "bucket, name", TimeSpan.FromHours(3), TimeSpan.FromMinutes(2)),
        ("metric_rollups_hour", "bucket, name", TimeSpan.FromDays(8), HourClosed),
        ("metric_rollups_tagged_minute", "name, bucket, dims", TimeSpan.FromHours(3), TimeSpan.FromMinutes(2)),
        ("metric_rollups_tagged_hour", "name, bucket, dims", TimeSpan.FromDays(8), HourClosed),
    ];

    // How far back day rows are checked against their hours: late points are
    // accepted up to MetricRules.MaxAge (7 days) old.
    private static readonly TimeSpan DayHorizon = TimeSpan.FromDays(8);

    // How far back tagged quarter rows are built and checked against their
    // minutes, as far as the minute tier is compacted. A quarter changed by an
    // older late point stays stale, and queries read its minutes instead.
    private static readonly TimeSpan QuarterHorizon = TimeSpan.FromHours(3);
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoop.RunAsync("rollup-compaction", async cancellationToken =>
        {
            await CompactAsync(cancellationToken);
            return options.Value.CompactionInterval;
        }, logger, errors, time, stoppingToken, loops);

    // Returns how many shard rows were merged away in each tier, and how many
    // quarter and day rows were built ("metric_rollups_tagged_quarter",
    // "metric_rollups_day", "metric_rollups_tagged_day") and how many closed
    // rows had their sketch packed ("packed").
    public async Task<Dictionary<string, int>> CompactAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var merged = new Dictionary<string, int>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var guard = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(" + LockKey + ")", connection, transaction))
        {
            if (!(bool)(await guard.ExecuteScalarAsync(cancellationToken))!) return merged;
        }

        foreach (var (table, key, horizon, closed) in Tiers)
        {
            // Lock every row about to change in (bucket, name, shard) order, the
            // order consumers lock them in, so compaction and live writes queue
            // behind each other instead of deadlocking.
            await using (var lockRows = new NpgsqlCommand($"""
                SELECT 1 FROM {table}
                WHERE bucket >= $1 AND bucket < $2
                  AND ({key}) IN (SELECT {key} FROM {table} WHERE bucket >= $1 AND bucket < $2 AND shard <> 0)
                ORDER BY {key}, shard
                FOR UPDATE
                """, connection, transaction))
            {
                lockRows.Parameters.Add(new NpgsqlParameter { Value = (now - horizon).UtcDateTime });
                lockRows.Parameters.Add(new NpgsqlParameter { Value = (now - closed).UtcDateTime });
                await lockRows.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var command = new NpgsqlCommand($"""
                WITH moved AS (
                    DELETE FROM {table} WHERE bucket >= $1 AND bucket < $2 AND shard <> 0
                    RETURNING {key}, shard, count, sum, min, max, sketch, dist_count
                ), merged AS (
                    INSERT INTO {table} AS r ({key}, shard, count, sum, min, max, sketch, dist_count)
                    SELECT {key}, 0, sum(count), sum(sum), min(min), max(max), sketch_merge_agg(sketch ORDER BY shard), sum(dist_count)
                    FROM moved
                    GROUP BY {key}
                    ORDER BY {key}
                    ON CONFLICT ({key}, shard) DO UPDATE SET
                        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
                        min = least(r.min, EXCLUDED.min), max = greatest(r.max, EXCLUDED.max),
                        sketch = sketch_merge(r.sketch, EXCLUDED.sketch), dist_count = r.dist_count + EXCLUDED.dist_count
                )
                SELECT count(*)::int FROM moved
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = (now - horizon).UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = (now - closed).UtcDateTime });
            merged[table] = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        // Quarters that have ended, from their merged minutes.
        await using (var quarters = new NpgsqlCommand("SELECT build_tagged_quarter_rollups($1, $2)", connection, transaction))
        {
            quarters.Parameters.Add(new NpgsqlParameter { Value = QuarterStart(now - QuarterHorizon) });
            quarters.Parameters.Add(new NpgsqlParameter { Value = QuarterStart(now - TimeSpan.FromMinutes(2)) });
            merged["metric_rollups_tagged_quarter"] = (int)(await quarters.ExecuteScalarAsync(cancellationToken))!;
        }

        await using (var days = new NpgsqlCommand("SELECT build_day_rollups($1, $2)", connection, transaction))
        {
            var today = now.UtcDateTime.Date;
            days.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(today - DayHorizon, DateTimeKind.Utc) });
            days.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(today, DateTimeKind.Utc) });
            merged["metric_rollups_day"] = (int)(await days.ExecuteScalarAsync(cancellationToken))!;
        }

        await using (var days = new NpgsqlCommand("SELECT build_tagged_day_rollups($1, $2)", connection, transaction))
        {
            var today = now.UtcDateTime.Date;
            days.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(today - DayHorizon, DateTimeKind.Utc) });
            days.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(today, DateTimeKind.Utc) });
            merged["metric_rollups_tagged_day"] = (int)(await days.ExecuteScalarAsync(cancellationToken))!;
        }

        // Closed quarter, hour and day rows get their packed sketch, which
        // queries read instead of the arrays.
        await using (var pack = new NpgsqlCommand("SELECT pack_tagged_sketches($1, $2) + pack_rollup_sketches($1, $2)", connection, transaction))
        {
            pack.Parameters.Add(new NpgsqlParameter { Value = (now - DayHorizon).UtcDateTime });
            pack.Parameters.Add(new NpgsqlParameter { Value = (now - HourClosed).UtcDateTime });
            merged["packed"] = (int)(await pack.ExecuteScalarAsync(cancellationToken))!;
        }

        await transaction.CommitAsync(cancellationToken);
        return merged;
    }

    private static DateTime QuarterStart(DateTimeOffset t) => RollupSpans.Floor(t.UtcDateTime, Quarter.Ticks);
}
