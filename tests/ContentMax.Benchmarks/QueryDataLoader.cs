using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Benchmarks;

// Fills metrics up to the query benchmark's size (10M rows over 7 days across
// 20 names) with binary COPY into a staging table, then moves the rows into
// metrics in time order (as live traffic arrives) with their rollups, a day at
// a time. This is set-up, not a measured path.
public sealed class QueryDataLoader(BenchmarkSystem system, BenchmarkReport report)
{
    public async Task RunAsync()
    {
        await using var data = NpgsqlDataSource.Create(system.MetricsDb);
        long existing;
        await using (var count = data.CreateCommand("SELECT count(*) FROM metrics"))
        {
            existing = (long)(await count.ExecuteScalarAsync())!;
        }

        var rows = report.Options.QueryRows - existing;
        if (rows <= 0) return;
        Console.WriteLine($"Loading {rows:N0} rows over 7 days for the query benchmark...");
        var stopwatch = Stopwatch.StartNew();

        await using (var create = data.CreateCommand("DROP TABLE IF EXISTS bench_load; CREATE UNLOGGED TABLE bench_load (id uuid, name text, value float8, ts timestamptz)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var random = new Random(5);
        var now = DateTime.UtcNow;
        await using (var connection = await data.OpenConnectionAsync())
        await using (var importer = await connection.BeginBinaryImportAsync("COPY bench_load (id, name, value, ts) FROM STDIN (FORMAT BINARY)"))
        {
            for (long i = 0; i < rows; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await importer.WriteAsync(MetricNames.All[i % MetricNames.All.Length], NpgsqlDbType.Text);
                var gaussian = random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5;
                await importer.WriteAsync(Math.Round(Math.Exp(4 + 1.5 * gaussian), 3), NpgsqlDbType.Double);
                await importer.WriteAsync(now.AddSeconds(-random.NextDouble() * 7 * 86400 + 60), NpgsqlDbType.TimestampTz);
            }

            await importer.CompleteAsync();
        }

        for (var day = 0; day < 8; day++)
        {
            await using var move = data.CreateCommand(MoveSql);
            move.CommandTimeout = 600;
            move.Parameters.Add(new NpgsqlParameter { Value = now.AddDays(-day - 1) });
            move.Parameters.Add(new NpgsqlParameter { Value = day == 0 ? now.AddDays(1) : now.AddDays(-day) });
            await move.ExecuteNonQueryAsync();
        }

        // The day rollups of the days that have ended, as the compactor's next
        // pass would build them.
        foreach (var sql in new[]
                 {
                     "DROP TABLE bench_load", "SELECT build_day_rollups('-infinity', date_trunc('day', now(), 'UTC'))",
                     "VACUUM ANALYZE metrics", "VACUUM ANALYZE metric_rollups_minute", "VACUUM ANALYZE metric_rollups_hour", "VACUUM ANALYZE metric_rollups_day",
                 })
        {
            await using var cleanup = data.CreateCommand(sql);
            cleanup.CommandTimeout = 600;
            await cleanup.ExecuteNonQueryAsync();
        }

        report.Note($"Query data: {rows:N0} rows loaded over 7 days across {MetricNames.All.Length} names in {stopwatch.Elapsed.TotalSeconds:0} s (COPY to staging, then moved with rollups).");
    }

    private const string Rollup = """
        sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
        """;

    private const string Merge = """
        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum, min = least(r.min, EXCLUDED.min),
        max = greatest(r.max, EXCLUDED.max), sketch = sketch_merge(r.sketch, EXCLUDED.sketch)
        """;

    private const string MoveSql = $"""
        WITH inserted AS (
            INSERT INTO metrics (id, name, value, ts)
            SELECT id, name, value, ts FROM bench_load WHERE ts >= $1 AND ts < $2 ORDER BY ts
            RETURNING name, ts, value
        ), keyed AS (
            SELECT name, date_trunc('minute', ts) AS minute, sketch_key(value) AS key,
                   count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
            FROM inserted GROUP BY 1, 2, 3
        ), per_minute AS (
            INSERT INTO metric_rollups_minute AS r (bucket, name, count, sum, min, max, sketch)
            SELECT minute, name, {Rollup} FROM keyed GROUP BY minute, name
            ON CONFLICT (bucket, name, shard) DO UPDATE SET {Merge}
        )
        INSERT INTO metric_rollups_hour AS r (bucket, name, count, sum, min, max, sketch)
        SELECT hour, name, {Rollup}
        FROM (SELECT date_trunc('hour', minute) AS hour, name, key, sum(n)::bigint AS n, sum(total) AS total, min(lo) AS lo, max(hi) AS hi
              FROM keyed GROUP BY 1, 2, 3) hourly
        GROUP BY hour, name
        ON CONFLICT (bucket, name, shard) DO UPDATE SET {Merge}
        """;
}
