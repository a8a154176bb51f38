using System.Diagnostics;
using System.Text.Json;
using Npgsql;

namespace ContentMax.Benchmarks;

// The metrics explorer over one metric of QueryRows points (10M) spread over 7
// days with a route tag (20 routes) and a status tag, loaded as the query
// benchmark's data is (so its tagged rollups exist as storage would have
// written them): p95 by route over 24h and 7d, from /series (the chart) and
// /breakdown (the table), against exact percentile_disc(0.95) over the raw
// rows of the same window in the same run.
public sealed class ExplorerBenchmark(BenchmarkSystem system, BenchmarkReport report)
{
    public const string Metric = "explorer_latency";

    private static readonly string[] Routes = [.. Enumerable.Range(0, 20).Select(i => $"/api/r{i:00}")];

    private const string ExactSql = """
        SELECT tags ->> 'route', percentile_disc(0.95) WITHIN GROUP (ORDER BY value)
        FROM metrics WHERE name = $1 AND ts >= now() - $2::interval AND ts < now()
        GROUP BY 1
        """;

    public async Task RunAsync()
    {
        await using var data = NpgsqlDataSource.Create(system.MetricsDb);
        await LoadAsync(data);

        using var client = new HttpClient { BaseAddress = system.Endpoint("aggregation"), Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Add("X-Api-Key", BenchmarkSystem.ReadKey);
        Console.WriteLine("Explorer: exact SQL per route, then GET /api/metrics/series and /breakdown p95 by route...");

        foreach (var (period, interval, exactRuns, repeats, target) in new[]
                 {
                     ("24h", "24 hours", 3, report.Options.QueryRepeats, 150.0),
                     ("7d", "7 days", 1, Math.Max(10, report.Options.QueryRepeats / 2), 300.0),
                 })
        {
            var exactTimes = new List<double>();
            var exact = new Dictionary<string, double>();
            for (var i = 0; i < exactRuns; i++)
            {
                var started = Stopwatch.StartNew();
                await using var command = data.CreateCommand(ExactSql);
                command.CommandTimeout = 600;
                command.Parameters.Add(new NpgsqlParameter { Value = Metric });
                command.Parameters.Add(new NpgsqlParameter { Value = interval });
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) exact[reader.GetString(0)] = reader.GetDouble(1);
                exactTimes.Add(started.Elapsed.TotalMilliseconds);
            }

            var exactMedian = exactTimes.Order().ElementAt(exactTimes.Count / 2);

            var seriesUrl = $"/api/metrics/series?metric={Metric}&period={period}&agg=p95&groupBy=route&limit=20";
            var breakdownUrl = $"/api/metrics/breakdown?metric={Metric}&period={period}&agg=p95&groupBy=route&limit=20";

            // The API's p95 per route against the exact one.
            var worst = 0.0;
            using (var series = JsonDocument.Parse(await client.GetStringAsync(seriesUrl)))
            using (var breakdown = JsonDocument.Parse(await client.GetStringAsync(breakdownUrl)))
            {
                foreach (var entry in series.RootElement.GetProperty("series").EnumerateArray())
                {
                    var route = entry.GetProperty("group").GetProperty("route").GetString()!;
                    worst = Math.Max(worst, Math.Abs(entry.GetProperty("total").GetDouble() - exact[route]) / exact[route]);
                }

                foreach (var (route, expected) in exact)
                {
                    var got = breakdown.RootElement.GetProperty("values").GetProperty(route).GetProperty("p95").GetDouble();
                    worst = Math.Max(worst, Math.Abs(got - expected) / expected);
                }
            }

            report.Add($"Explorer p95 error by route, {period} (20 routes)", $"at most {worst * 100:0.00}%", "exact percentile_disc", "—", "≤ 0.5%", worst <= 0.005);

            foreach (var (what, url) in new[] { ("series", seriesUrl), ("breakdown", breakdownUrl) })
            {
                var times = await TimeAsync(client, url, repeats);
                var p50 = LoadGenerator.Percentile(times, 50);
                var p99 = LoadGenerator.Percentile(times, 99);
                report.Add($"GET /api/metrics/{what}?period={period}&agg=p95&groupBy=route", $"p50 {p50:0.0} ms, p99 {p99:0.0} ms",
                    $"exact SQL {exactMedian:0} ms", $"{exactMedian / p50:0}× faster", $"p50 ≤ {target:0} ms", p50 <= target);
            }
        }
    }

    // 80% 200, 10% 404, 5% 500, 5% 201, spread evenly over the routes.
    private async Task LoadAsync(NpgsqlDataSource data)
    {
        long existing;
        await using (var count = data.CreateCommand("SELECT count(*) FROM metrics WHERE name = $1"))
        {
            count.Parameters.Add(new NpgsqlParameter { Value = Metric });
            existing = (long)(await count.ExecuteScalarAsync())!;
        }

        var rows = report.Options.QueryRows - existing;
        if (rows <= 0) return;
        Console.WriteLine($"Loading {rows:N0} rows of {Metric} over 7 days with route and status tags...");
        var stopwatch = Stopwatch.StartNew();
        var tags = Routes.SelectMany(route => new[] { "200", "404", "500", "201" }
            .Select(status => JsonSerializer.Serialize(new Dictionary<string, string> { ["route"] = route, ["status"] = status }))).ToArray();
        await QueryDataLoader.LoadAsync(data, rows, (random, i) =>
        {
            var route = (int)(i % Routes.Length);
            var roll = random.Next(100);
            var status = roll < 80 ? 0 : roll < 90 ? 1 : roll < 95 ? 2 : 3;
            return (Metric, tags[route * 4 + status]);
        });
        report.Note($"Explorer data: {rows:N0} rows of one metric over 7 days, 20 routes × 4 statuses, loaded in {stopwatch.Elapsed.TotalSeconds:0} s (as the query data, with tagged rollups).");
    }

    private static async Task<double[]> TimeAsync(HttpClient client, string url, int repeats)
    {
        for (var i = 0; i < 3; i++) await client.GetStringAsync(url);
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return times.Order().ToArray();
    }
}
