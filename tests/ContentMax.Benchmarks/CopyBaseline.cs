using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Benchmarks;

// The physical ceiling for storage on this machine: binary COPY of 1M points
// like the load's (20 names, log-normal values, the last minute, the same tag)
// into an unindexed, unpartitioned table with the metrics table's columns, in
// the same database, in the same run. Ingestion is judged against it.
public sealed class CopyBaseline(BenchmarkSystem system, BenchmarkReport report)
{
    private const int Rows = 1_000_000;

    public async Task RunAsync()
    {
        Console.WriteLine("Baseline: binary COPY into an unindexed table with the metrics columns...");
        await using var data = NpgsqlDataSource.Create(system.MetricsDb);
        await using (var create = data.CreateCommand("DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE metrics)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var random = new Random(1);
        var now = DateTimeOffset.UtcNow;
        const string tags = """{"env": "bench"}""";
        var stopwatch = Stopwatch.StartNew();
        await using (var connection = await data.OpenConnectionAsync())
        await using (var importer = await connection.BeginBinaryImportAsync("COPY bench_copy (id, name, value, ts, tags, count) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < Rows; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await importer.WriteAsync(MetricNames.All[random.Next(MetricNames.All.Length)], NpgsqlDbType.Text);
                await importer.WriteAsync(LoadGenerator.Value(random), NpgsqlDbType.Double);
                await importer.WriteAsync((now - TimeSpan.FromMilliseconds(random.NextDouble() * 60_000)).UtcDateTime, NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(tags, NpgsqlDbType.Jsonb);
                await importer.WriteAsync(1L, NpgsqlDbType.Bigint);
            }

            await importer.CompleteAsync();
        }

        stopwatch.Stop();
        report.CopyRowsPerSecond = Rows / stopwatch.Elapsed.TotalSeconds;
        await using (var drop = data.CreateCommand("DROP TABLE bench_copy"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        report.Add("Binary COPY, 1M points, unindexed table (baseline)", $"{report.CopyRowsPerSecond:N0} rows/s", "—", "—", "—", null);
    }
}

public static class MetricNames
{
    // Twenty names, as in the query target: web vitals, API, errors, business.
    public static readonly string[] All =
    [
        "LCP", "INP", "CLS", "FCP", "TTFB", "api_response_time", "api_requests", "errors", "opportunities_scored", "revenue_calculated",
        "active_projects", "db_query_time", "cache_hit_ratio", "queue_depth", "render_time", "search_latency", "export_time", "login_time", "page_weight", "js_heap",
    ];
}
