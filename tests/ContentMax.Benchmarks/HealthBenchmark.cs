using System.Diagnostics;

namespace ContentMax.Benchmarks;

// GET /api/health at 2k requests/s while PostgreSQL hangs (SIGSTOP): the answer
// comes from the latest probe results and must not wait on the database.
public sealed class HealthBenchmark(BenchmarkSystem system, BenchmarkReport report)
{
    private const int RequestsPerSecond = 2000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(10);

    public async Task RunAsync()
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = system.Endpoint("health-probe"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        using (var probe = await client.GetAsync("/api/health"))
        {
            if ((int)probe.StatusCode is not (200 or 503))
            {
                report.Add("GET /api/health at 2k req/s, database hung", "not measured", "—", "—", "p99 ≤ 10 ms", null);
                report.Note($"/api/health answered {(int)probe.StatusCode}; the health benchmark was skipped.");
                return;
            }
        }

        Console.WriteLine("Health: 2k req/s while PostgreSQL is frozen...");
        system.Signal("postgres", "STOP");
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var latencies = new List<double>();
            var gate = new object();
            var total = (int)(RequestsPerSecond * Duration.TotalSeconds);
            var interval = TimeSpan.FromSeconds(1.0 / RequestsPerSecond);
            var clock = Stopwatch.StartNew();
            var inFlight = new List<Task>(total);
            for (var i = 0; i < total; i++)
            {
                // Open loop: requests leave on schedule whether or not earlier ones returned.
                var due = interval * i;
                if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
                inFlight.Add(Task.Run(async () =>
                {
                    var started = Stopwatch.GetTimestamp();
                    using var response = await client.GetAsync("/api/health");
                    var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    lock (gate) latencies.Add(ms);
                }));
            }

            await Task.WhenAll(inFlight);
            var achieved = total / clock.Elapsed.TotalSeconds;
            var sorted = latencies.Order().ToArray();
            var p99 = LoadGenerator.Percentile(sorted, 99);
            report.Add("GET /api/health at 2k req/s, database hung", $"p50 {LoadGenerator.Percentile(sorted, 50):0.00} ms, p99 {p99:0.00} ms",
                $"{achieved:N0} req/s offered", "—", "p99 ≤ 10 ms", p99 <= 10);
        }
        finally
        {
            system.Signal("postgres", "CONT");
        }
    }
}
