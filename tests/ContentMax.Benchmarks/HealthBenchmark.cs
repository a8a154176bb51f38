using System.Diagnostics;

namespace ContentMax.Benchmarks;

// GET /api/health at 2k requests/s while PostgreSQL hangs (SIGSTOP): the answer
// comes from the latest probe results and must not wait on the database.
// Beside it, the same open-loop client against a bare Kestrel process that
// answers a fixed body of the same size: the tail this machine gives any
// HTTP answer at that moment.
public sealed class HealthBenchmark(BenchmarkSystem system, BenchmarkReport report)
{
    private const int RequestsPerSecond = 2000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(10);

    public async Task RunAsync()
    {
        using var client = Client(system.Endpoint("health-probe"));
        using (var probe = await client.GetAsync("/api/health"))
        {
            if ((int)probe.StatusCode is not (200 or 503))
            {
                report.Add("GET /api/health at 2k req/s, database hung", "not measured", "—", "—", "p99 ≤ 10 ms", null);
                report.Note($"/api/health answered {(int)probe.StatusCode}; the health benchmark was skipped.");
                return;
            }
        }

        Console.WriteLine("Health: 2k req/s against a bare Kestrel answer, then against health-probe while PostgreSQL is frozen...");
        double[] bare;
        await using (var server = await BareKestrelBaseline.Server.StartAsync())
        {
            using var bareClient = Client(server.Endpoint);
            await OpenLoopAsync(bareClient, TimeSpan.FromSeconds(2));
            var barePaused = GC.GetTotalPauseDuration();
            bare = await OpenLoopAsync(bareClient, Duration);
            barePaused = GC.GetTotalPauseDuration() - barePaused;
            report.Note($"Health, bare Kestrel baseline: the load generator's own GC paused it {barePaused.TotalMilliseconds:0.0} ms in the measured {Duration.TotalSeconds:0} s.");
        }

        // Warmed up as the bare server was (JIT tiers, thread pool), before the database hangs.
        await OpenLoopAsync(client, TimeSpan.FromSeconds(2));
        system.Signal("postgres", "STOP");
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var cpuBefore = system.CpuSnapshot();
            var paused = GC.GetTotalPauseDuration();
            var clock = Stopwatch.StartNew();
            var sorted = await OpenLoopAsync(client, Duration);
            var achieved = sorted.Length / clock.Elapsed.TotalSeconds;
            paused = GC.GetTotalPauseDuration() - paused;
            report.Note($"Health, database hung: CPU used over {clock.Elapsed.TotalSeconds:0.0} s on {Environment.ProcessorCount} cores: {system.CpuUsedSince(cpuBefore)}; " +
                $"the load generator's own GC paused it {paused.TotalMilliseconds:0.0} ms; the slowest answer took {sorted[^1]:0.0} ms.");
            var p99 = LoadGenerator.Percentile(sorted, 99);
            var bareP99 = LoadGenerator.Percentile(bare, 99);
            report.Add("GET /api/health at 2k req/s, database hung", $"p50 {LoadGenerator.Percentile(sorted, 50):0.00} ms, p99 {p99:0.00} ms",
                $"bare Kestrel p50 {LoadGenerator.Percentile(bare, 50):0.00} ms, p99 {bareP99:0.00} ms", $"p99 {p99 / bareP99:0.00}×", "p99 ≤ 10 ms", p99 <= 10);
            report.Note($"Health: {achieved:N0} requests/s offered (open loop, {RequestsPerSecond:N0}/s scheduled); the bare Kestrel baseline answers a fixed body of the same size under the same client just before.");
        }
        finally
        {
            system.Signal("postgres", "CONT");
        }
    }

    private static HttpClient Client(Uri baseAddress) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };

    // Open loop: requests leave on schedule whether or not earlier ones
    // returned. The latencies, sorted.
    private static async Task<double[]> OpenLoopAsync(HttpClient client, TimeSpan duration)
    {
        var latencies = new List<double>();
        var gate = new object();
        var total = (int)(RequestsPerSecond * duration.TotalSeconds);
        var interval = TimeSpan.FromSeconds(1.0 / RequestsPerSecond);
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
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
        return [.. latencies.Order()];
    }
}
