using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Benchmarks;

// The ceiling for storage: binary COPY of 1M rows into a table shaped and
// indexed exactly like metrics, in the same database, in the same run.
public sealed class CopyBaseline(BenchmarkSystem system, BenchmarkReport report)
{
    private const int Rows = 1_000_000;

    public async Task RunAsync()
    {
        Console.WriteLine("Baseline: binary COPY into a copy of the metrics table...");
        await using var data = NpgsqlDataSource.Create(system.MetricsDb);
        await using (var create = data.CreateCommand("DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE metrics INCLUDING ALL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var random = new Random(1);
        var now = DateTime.UtcNow;
        var stopwatch = Stopwatch.StartNew();
        await using (var connection = await data.OpenConnectionAsync())
        await using (var importer = await connection.BeginBinaryImportAsync("COPY bench_copy (id, name, value, ts) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < Rows; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await importer.WriteAsync(MetricNames.All[i % MetricNames.All.Length], NpgsqlDbType.Text);
                await importer.WriteAsync(random.NextDouble() * 1000, NpgsqlDbType.Double);
                await importer.WriteAsync(now.AddSeconds(-random.Next(0, 86400)), NpgsqlDbType.TimestampTz);
            }

            await importer.CompleteAsync();
        }

        stopwatch.Stop();
        report.CopyRowsPerSecond = Rows / stopwatch.Elapsed.TotalSeconds;
        await using (var drop = data.CreateCommand("DROP TABLE bench_copy"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        report.Add("Binary COPY, 1M rows (baseline)", $"{report.CopyRowsPerSecond:N0} rows/s", "—", "—", "—", null);
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
