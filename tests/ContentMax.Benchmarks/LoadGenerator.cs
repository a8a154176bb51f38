using System.Diagnostics;
using System.Net;
using System.Text;

namespace ContentMax.Benchmarks;

// Closed-loop HTTP load: N workers, each posting as fast as answers come back,
// for a fixed time. Records every request's latency.
public sealed class LoadGenerator(Uri ingestion, int workers, Func<int, byte[]> body, int metricsPerPost)
{
    public sealed record Result(long AcceptedMetrics, long Rejected, TimeSpan Elapsed, double[] LatenciesMs);

    private long _accepted;

    public long AcceptedSoFar => Interlocked.Read(ref _accepted);

    public async Task<Result> RunAsync(TimeSpan duration, Func<bool>? stopEarly = null)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = workers, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var client = new HttpClient(handler) { BaseAddress = ingestion, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", BenchmarkSystem.IngestKey);

        long rejected = 0;
        var latencies = new List<double>[workers];
        var stopwatch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(async w =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            var i = w;
            while (stopwatch.Elapsed < duration && stopEarly?.Invoke() != true)
            {
                using var content = new ByteArrayContent(body(i++));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync("/api/metrics", content);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Interlocked.Add(ref _accepted, metricsPerPost);
                }
                else
                {
                    Interlocked.Increment(ref rejected);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(100));
                }
            }
        }).ToArray();
        await Task.WhenAll(tasks);
        return new Result(AcceptedSoFar, rejected, stopwatch.Elapsed, latencies.SelectMany(l => l).Order().ToArray());
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    // Pre-built request bodies of random metrics spread over the last 7 days.
    // The server generates the ids, so re-sending a body stores new rows.
    public static byte[][] Bodies(int count, int metricsPerBody, TimeSpan spread, int seed)
    {
        var random = new Random(seed);
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(_ =>
        {
            var json = new StringBuilder(metricsPerBody * 80);
            json.Append(metricsPerBody == 1 ? "" : "[");
            for (var m = 0; m < metricsPerBody; m++)
            {
                if (m > 0) json.Append(',');
                var name = MetricNames.All[random.Next(MetricNames.All.Length)];
                var value = Math.Round(Math.Exp(4 + 1.5 * (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5)), 3);
                var ts = (now - TimeSpan.FromMilliseconds(random.NextDouble() * spread.TotalMilliseconds)).ToUnixTimeMilliseconds();
                json.Append(System.Globalization.CultureInfo.InvariantCulture, $$$"""{"metric":"{{{name}}}","value":{{{value}}},"timestamp":{{{ts}}},"tags":{"env":"bench"}}""");
            }

            json.Append(metricsPerBody == 1 ? "" : "]");
            return Encoding.UTF8.GetBytes(json.ToString());
        }).ToArray();
    }
}
