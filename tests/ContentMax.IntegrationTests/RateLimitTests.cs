using System.Net;
using System.Net.Http.Json;

namespace ContentMax.IntegrationTests;

// Per-key limits on one ingestion instance: requests and metrics per second,
// answered with 429 problem+json and Retry-After. Sharing between replicas and
// the Redis-down fallback are in the fault tests.
[Collection(AppHostCollection.Name)]
public class RateLimitTests(AppHostFixture fixture)
{
    [Fact]
    public async Task OverItsRequestLimit_AKeyGets429WithRetryAfter_NamingTheKeyButNeverShowingIt()
    {
        await using var logs = ResourceLogs.Capture(fixture.App, "ingestion");
        using var client = fixture.Client("ingestion", AppHostFixture.ThrottledKey);
        var name = MetricsApi.UniqueName();

        // All at once, so they fall within one or two windows however slow the machine is.
        await AtTheStartOfAWindowAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 4 * AppHostFixture.ThrottledRequestsPerSecond)
            .Select(i => client.PostAsync(new { metric = name, value = i })));

        var limited = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var problem = await limited.ProblemAsync();
        Assert.Equal(429, problem["status"]!.GetValue<int>());
        Assert.Contains("'throttled'", problem["detail"]!.GetValue<string>());
        Assert.Contains($"{AppHostFixture.ThrottledRequestsPerSecond} requests per second", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain(AppHostFixture.ThrottledKey, problem.ToJsonString());

        // After the window, the same key is served again.
        await Task.Delay(limited.Headers.RetryAfter.Delta.Value);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync(new { metric = name, value = 1 })).StatusCode);

        var line = await Eventually.UntilAsync(() => logs.Lines.FirstOrDefault(l => l.Contains("over its limit", StringComparison.Ordinal)),
            l => l is not null, TimeSpan.FromSeconds(10), _ => "no rate-limit warning was logged");
        Assert.Contains("throttled", line);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(AppHostFixture.ThrottledKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task MetricsPerSecond_CountsEveryMetric_AndABatchThatCanNeverFitSaysSendSmallerBatches()
    {
        using var client = fixture.Client("ingestion", AppHostFixture.ThrottledKey);
        var name = MetricsApi.UniqueName();
        object Batch(int n) => Enumerable.Range(0, n).Select(i => new { metric = name, value = i }).ToArray();

        await AtTheStartOfAWindowAsync();
        var tooLarge = await client.PostAsJsonAsync("/api/metrics", Batch(AppHostFixture.ThrottledMetricsPerSecond + 1));
        Assert.Equal(HttpStatusCode.TooManyRequests, tooLarge.StatusCode);
        Assert.Contains("Send smaller batches", (await tooLarge.ProblemAsync())["detail"]!.GetValue<string>());

        await AtTheStartOfAWindowAsync();
        var first = await client.PostAsJsonAsync("/api/metrics", Batch(AppHostFixture.ThrottledMetricsPerSecond - 10));
        var second = await client.PostAsJsonAsync("/api/metrics", Batch(20));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains($"{AppHostFixture.ThrottledMetricsPerSecond} metrics per second", (await second.ProblemAsync())["detail"]!.GetValue<string>());
    }

    // Windows are whole seconds of the machine's clock, which the services share.
    private static Task AtTheStartOfAWindowAsync() => Task.Delay(1000 - DateTimeOffset.UtcNow.Millisecond + 20);
}
