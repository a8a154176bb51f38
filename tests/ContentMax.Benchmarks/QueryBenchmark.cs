using System.Diagnostics;
using Npgsql;

namespace ContentMax.Benchmarks;

// GET /api/metrics over the rows loaded by the ingestion benchmark, against the
// exact SQL (sorting every raw row of the period) in the same run.
public sealed class QueryBenchmark(BenchmarkSystem system, BenchmarkReport report)
{
    private const string ExactSql = """
        SELECT name, count(*), sum(value), min(value), max(value), avg(value),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY value),
               percentile_disc(0.95) WITHIN GROUP (ORDER BY value),
               percentile_disc(0.99) WITHIN GROUP (ORDER BY value)
        FROM metrics WHERE ts >= now() - interval '24 hours' GROUP BY name
        """;

    public async Task RunAsync()
    {
        Console.WriteLine("Queries: exact SQL baseline, then GET /api/metrics...");
        await using var data = NpgsqlDataSource.Create(system.MetricsDb);
        var exact = new List<double>();
        var exactPercentiles = new Dictionary<string, double[]>();
        for (var i = 0; i < 3; i++)
        {
            var started = Stopwatch.StartNew();
            await using var command = data.CreateCommand(ExactSql);
            command.CommandTimeout = 120;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                exactPercentiles[reader.GetString(0)] = [reader.GetDouble(6), reader.GetDouble(7), reader.GetDouble(8)];
            }

            exact.Add(started.Elapsed.TotalMilliseconds);
        }

        var exactMedian = exact.Order().ElementAt(1);

        using var client = new HttpClient { BaseAddress = system.Endpoint("aggregation"), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", BenchmarkSystem.ReadKey);

        // How far the API's median, p95 and p99 are from the exact ones.
        var api = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/api/metrics?period=24h")).RootElement.GetProperty("metrics");
        var worst = 0.0;
        foreach (var (name, expected) in exactPercentiles)
        {
            var aggregate = api.GetProperty(name);
            double[] got = [aggregate.GetProperty("median").GetDouble(), aggregate.GetProperty("p95").GetDouble(), aggregate.GetProperty("p99").GetDouble()];
            for (var k = 0; k < 3; k++) worst = Math.Max(worst, Math.Abs(got[k] - expected[k]) / Math.Abs(expected[k]));
        }

        report.Add("Percentile error, 24h (median, p95, p99 of 20 names)", $"at most {worst * 100:0.00}%", "exact SQL", "—", "≤ 1%", worst <= 0.01);

        var day = await TimeAsync(client, "24h", report.Options.QueryRepeats);
        var p50 = LoadGenerator.Percentile(day, 50);
        var p99 = LoadGenerator.Percentile(day, 99);
        report.Add("GET /api/metrics?period=24h (all 20 names)", $"p50 {p50:0.0} ms, p99 {p99:0.0} ms", $"exact SQL {exactMedian:0} ms",
            $"{exactMedian / p50:0}× faster", "p50 ≤ 50 ms, p99 ≤ 150 ms", p50 <= 50 && p99 <= 150);

        foreach (var period in new[] { "7d", "30d" })
        {
            var times = await TimeAsync(client, period, Math.Max(10, report.Options.QueryRepeats / 5));
            var median = LoadGenerator.Percentile(times, 50);
            report.Add($"GET /api/metrics?period={period}", $"p50 {median:0.0} ms, p99 {LoadGenerator.Percentile(times, 99):0.0} ms",
                $"exact SQL (24h) {exactMedian:0} ms", $"{exactMedian / median:0}×", "p50 ≤ 100 ms", median <= 100);
        }
    }

    private static async Task<double[]> TimeAsync(HttpClient client, string period, int repeats)
    {
        for (var i = 0; i < 3; i++) await client.GetStringAsync($"/api/metrics?period={period}");
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync($"/api/metrics?period={period}");
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return times.Order().ToArray();
    }
}
