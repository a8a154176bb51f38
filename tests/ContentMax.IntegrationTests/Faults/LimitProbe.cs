using System.Net;
using System.Net.Http.Json;

namespace ContentMax.IntegrationTests.Faults;

// Hammers ingestion with one key from many connections (so the proxy spreads
// them over the replicas) and counts the 202s per rate-limit window. A request
// counts for a window only when it was both sent and answered inside it: the
// services and the test share this machine's clock, so it was decided there.
public static class LimitProbe
{
    public sealed record Result(IReadOnlyDictionary<long, int> AcceptedPerWindow, int Accepted, int Limited, double AcceptedMs, double LimitedMs)
    {
        public int MostInOneWindow => AcceptedPerWindow.Count == 0 ? 0 : AcceptedPerWindow.Values.Max();

        public override string ToString() =>
            $"{Accepted} accepted (mean {AcceptedMs / Math.Max(1, Accepted):0.0} ms), {Limited} answered 429 (mean {LimitedMs / Math.Max(1, Limited):0.0} ms); " +
            $"per window: {string.Join(", ", AcceptedPerWindow.OrderBy(w => w.Key).Select(w => w.Value))}";
    }

    public static async Task<Result> RunAsync(HttpClient client, TimeSpan duration, int senders = 12)
    {
        var name = MetricsApi.UniqueName("limit");
        var perWindow = new Dictionary<long, int>();
        var accepted = 0;
        var limited = 0;
        long acceptedTicks = 0, limitedTicks = 0;

        // Warm up first (connections to both replicas, JIT, the first publish's
        // broker topology), so the measured seconds see the limiter, not a cold start.
        await Task.WhenAll(Enumerable.Range(0, senders).Select(_ => client.PostAsJsonAsync("/api/metrics", new { metric = name, value = 0 })));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var end = DateTime.UtcNow + duration;

        await Task.WhenAll(Enumerable.Range(0, senders).Select(_ => Task.Run(async () =>
        {
            while (DateTime.UtcNow < end)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000;
                using var response = await client.PostAsJsonAsync("/api/metrics", new { metric = name, value = 1 });
                var answered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000;
                var took = System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks;
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref limited);
                    Interlocked.Add(ref limitedTicks, took);
                    continue;
                }

                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Interlocked.Increment(ref accepted);
                Interlocked.Add(ref acceptedTicks, took);
                if (sent == answered)
                {
                    lock (perWindow) perWindow[sent] = perWindow.GetValueOrDefault(sent) + 1;
                }
            }
        })));

        return new Result(perWindow, accepted, limited, TimeSpan.FromTicks(acceptedTicks).TotalMilliseconds, TimeSpan.FromTicks(limitedTicks).TotalMilliseconds);
    }
}
