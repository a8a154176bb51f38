using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Benchmarks;

// Fills metrics up to the query benchmark's size (10M rows over 7 days across
// 20 names) with binary COPY into a staging table, then moves the rows into
// metrics in time order (as live traffic arrives) with their rollups (tagged
// ones too, for points with rollup tag keys), a day at a time. The explorer
// benchmark loads its metric the same way. This is set-up, not a measured path.
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
        await LoadAsync(data, rows, (_, i) => (MetricNames.All[i % MetricNames.All.Length], null));
        report.Note($"Query data: {rows:N0} rows loaded over 7 days across {MetricNames.All.Length} names in {stopwatch.Elapsed.TotalSeconds:0} s (COPY to staging, then moved with rollups).");
    }

    // The tag keys the loader keeps tagged rollups by: Aggregation:RollupTagKeys' default.
    public static readonly string[] RollupTagKeys = ["level", "method", "page", "route", "service", "status"];

    // COPY `rows` points (name and tags JSON per row) spread over the last 7
    // days into a staging table, then moves them into metrics in time order
    // with their rollups, untagged and tagged, a day at a time; finally the
    // day rollups and statistics, as the compactor and autovacuum would.
    public static async Task LoadAsync(NpgsqlDataSource data, long rows, Func<Random, long, (string Name, string? Tags)> row)
    {
        await using (var create = data.CreateCommand("DROP TABLE IF EXISTS bench_load; CREATE UNLOGGED TABLE bench_load (id uuid, name text, value float8, ts timestamptz, tags jsonb)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var random = new Random(5);
        var now = DateTime.UtcNow;
        await using (var connection = await data.OpenConnectionAsync())
        await using (var importer = await connection.BeginBinaryImportAsync("COPY bench_load (id, name, value, ts, tags) FROM STDIN (FORMAT BINARY)"))
        {
            for (long i = 0; i < rows; i++)
            {
                var (name, tags) = row(random, i);
                await importer.StartRowAsync();
                await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await importer.WriteAsync(name, NpgsqlDbType.Text);
                var gaussian = random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5;
                await importer.WriteAsync(Math.Round(Math.Exp(4 + 1.5 * gaussian), 3), NpgsqlDbType.Double);
                await importer.WriteAsync(now.AddSeconds(-random.NextDouble() * 7 * 86400 + 60), NpgsqlDbType.TimestampTz);
                if (tags is null) await importer.WriteNullAsync();
                else await importer.WriteAsync(tags, NpgsqlDbType.Jsonb);
            }

            await importer.CompleteAsync();
        }

        for (var day = 0; day < 8; day++)
        {
            await using var move = data.CreateCommand(MoveSql);
            move.CommandTimeout = 900;
            move.Parameters.Add(new NpgsqlParameter { Value = now.AddDays(-day - 1) });
            move.Parameters.Add(new NpgsqlParameter { Value = day == 0 ? now.AddDays(1) : now.AddDays(-day) });
            move.Parameters.Add(new NpgsqlParameter { Value = RollupTagKeys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await move.ExecuteNonQueryAsync();
        }

        // The day rollups of the days that have ended and the tagged quarter
        // rollups of the quarters that have, and the packed sketches of the
        // closed rows, as the compactor's passes would build them; the
        // tagged rollups hold every loaded point, as they would had storage
        // written them from the start.
        foreach (var sql in new[]
                 {
                     "DROP TABLE bench_load", "SELECT build_day_rollups('-infinity', date_trunc('day', now(), 'UTC'))",
                     "SELECT build_tagged_day_rollups('-infinity', date_trunc('day', now(), 'UTC'))",
                     "SELECT build_tagged_quarter_rollups('-infinity', date_bin('15 minutes', now() - interval '2 minutes', timestamptz 'epoch'))",
                     "SELECT pack_tagged_sketches('-infinity', now() - interval '62 minutes')",
                     "SELECT pack_rollup_sketches('-infinity', now() - interval '62 minutes')",
                     $"INSERT INTO rollup_tag_keys (keys, since) VALUES ('{{{string.Join(",", RollupTagKeys)}}}', '-infinity') ON CONFLICT (keys) DO UPDATE SET since = '-infinity'",
                     "VACUUM ANALYZE metrics", "VACUUM ANALYZE metric_rollups_minute", "VACUUM ANALYZE metric_rollups_hour", "VACUUM ANALYZE metric_rollups_day",
                     "VACUUM ANALYZE metric_rollups_tagged_minute", "VACUUM ANALYZE metric_rollups_tagged_hour", "VACUUM ANALYZE metric_rollups_tagged_day",
                     "VACUUM ANALYZE metric_rollups_tagged_quarter",
                 })
        {
            await using var cleanup = data.CreateCommand(sql);
            cleanup.CommandTimeout = 900;
            await cleanup.ExecuteNonQueryAsync();
        }
    }

    private const string Rollup = """
        sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
        """;

    private const string Merge = """
        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum, min = least(r.min, EXCLUDED.min),
        max = greatest(r.max, EXCLUDED.max), sketch = sketch_merge(r.sketch, EXCLUDED.sketch)
        """;

    // $3: the rollup tag keys. A point's dims are its values for those keys;
    // a point with none of them adds to no tagged row.
    private const string MoveSql = $"""
        WITH inserted AS (
            INSERT INTO metrics (id, name, value, ts, tags)
            SELECT id, name, value, ts, tags FROM bench_load WHERE ts >= $1 AND ts < $2 ORDER BY ts
            RETURNING name, ts, value, tags
        ), keyed AS (
            SELECT name, date_trunc('minute', ts) AS minute, sketch_key(value) AS key,
                   count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
            FROM inserted GROUP BY 1, 2, 3
        ), per_minute AS (
            INSERT INTO metric_rollups_minute AS r (bucket, name, count, sum, min, max, sketch)
            SELECT minute, name, {Rollup} FROM keyed GROUP BY minute, name
            ON CONFLICT (bucket, name, shard) DO UPDATE SET {Merge}
        ), per_hour AS (
            INSERT INTO metric_rollups_hour AS r (bucket, name, count, sum, min, max, sketch)
            SELECT hour, name, {Rollup}
            FROM (SELECT date_trunc('hour', minute) AS hour, name, key, sum(n)::bigint AS n, sum(total) AS total, min(lo) AS lo, max(hi) AS hi
                  FROM keyed GROUP BY 1, 2, 3) hourly
            GROUP BY hour, name
            ON CONFLICT (bucket, name, shard) DO UPDATE SET {Merge}
        ), dimmed AS (
            SELECT name, date_trunc('minute', ts) AS minute, d.dims, sketch_key(value) AS key,
                   count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
            FROM inserted CROSS JOIN LATERAL (SELECT jsonb_object_agg(t.key, t.value) AS dims FROM jsonb_each(inserted.tags) t WHERE t.key = ANY($3)) d
            WHERE d.dims IS NOT NULL
            GROUP BY 1, 2, 3, 4
        ), tagged_minute AS (
            INSERT INTO metric_rollups_tagged_minute AS r (name, bucket, dims, count, sum, min, max, sketch)
            SELECT name, minute, dims, {Rollup} FROM dimmed GROUP BY name, minute, dims
            ON CONFLICT (name, bucket, dims, shard) DO UPDATE SET {Merge}
        )
        INSERT INTO metric_rollups_tagged_hour AS r (name, bucket, dims, count, sum, min, max, sketch)
        SELECT name, hour, dims, {Rollup}
        FROM (SELECT date_trunc('hour', minute) AS hour, name, dims, key, sum(n)::bigint AS n, sum(total) AS total, min(lo) AS lo, max(hi) AS hi
              FROM dimmed GROUP BY 1, 2, 3, 4) hourly
        GROUP BY name, hour, dims
        ON CONFLICT (name, bucket, dims, shard) DO UPDATE SET {Merge}
        """;
}
