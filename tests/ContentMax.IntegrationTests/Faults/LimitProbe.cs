using System.Net;
using System.Net.Http.Json;

namespace ContentMax.IntegrationTests.Faults;

// Hammers ingestion with one key from many connections (so the proxy spreads
// them over the replicas) and counts the 202s per one-second rate-limit window.
// The services and the test share this machine's clock, so a request sent and
// answered inside one window was decided there: those counts are exact lower
// bounds per window. A request that crossed a boundary was decided in one of
// the windows it touched; it is counted in Spanned, so that no admission is
// missed: every accepted request lies within the windows from the first send
// to the last answer, and each window may admit at most the limit.
public static class LimitProbe
{
    public sealed record Result(IReadOnlyDictionary<long, int> AcceptedPerWindow, int Accepted, int Limited, double AcceptedMs, double LimitedMs,
        int CrossedBoundary, long FirstWindow, long LastWindow)
    {
        // Requests certainly decided in one window: at most the limit, or the limiter over-admitted.
        public int MostInOneWindow => AcceptedPerWindow.Count == 0 ? 0 : AcceptedPerWindow.Values.Max();

        // Every window in which an accepted request may have been decided.
        public int WindowsSpanned => (int)(LastWindow - FirstWindow + 1);

        // At most WindowsSpanned × limit, whichever windows the crossing requests fell in.
        public double MeanAcceptedPerWindow => (double)Accepted / WindowsSpanned;

        public override string ToString() =>
            $"{Accepted} accepted (mean {AcceptedMs / Math.Max(1, Accepted):0.0} ms), {Limited} answered 429 (mean {LimitedMs / Math.Max(1, Limited):0.0} ms); " +
            $"per window: {string.Join(", ", AcceptedPerWindow.OrderBy(w => w.Key).Select(w => w.Value))}; " +
            $"{CrossedBoundary} accepted across a window boundary; {Accepted} accepted over {WindowsSpanned} windows";
    }

    public static async Task<Result> RunAsync(HttpClient client, TimeSpan duration, int senders = 12)
    {
        var name = MetricsApi.UniqueName("limit");
        var perWindow = new Dictionary<long, int>();
        var accepted = 0;
        var limited = 0;
        var crossed = 0;
        long acceptedTicks = 0, limitedTicks = 0;

        // Warm up first (connections to both replicas, JIT, the first publish's
        // broker topology), so the measured seconds see the limiter, not a cold start.
        await Task.WhenAll(Enumerable.Range(0, senders).Select(_ => client.PostAsJsonAsync("/api/metrics", new { metric = name, value = 0 })));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var end = DateTime.UtcNow + duration;
        var firstWindow = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000;

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
                else
                {
                    Interlocked.Increment(ref crossed);
                }
            }
        })));

        var lastWindow = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000;
        return new Result(perWindow, accepted, limited, TimeSpan.FromTicks(acceptedTicks).TotalMilliseconds, TimeSpan.FromTicks(limitedTicks).TotalMilliseconds,
            crossed, firstWindow, lastWindow);
    }
}
