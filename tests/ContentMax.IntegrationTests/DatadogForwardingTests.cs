using System.Net;

namespace ContentMax.IntegrationTests;

// Aggregation forwards every stored metric to a local Datadog-compatible intake.
[Collection(AppHostCollection.Name)]
public class DatadogForwardingTests(AppHostFixture fixture)
{
    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);

    [Fact]
    public async Task EveryStoredPoint_ArrivesWithTheRightShape_WithinTheSizeLimit()
    {
        var name = MetricsApi.UniqueName();
        var metrics = Enumerable.Range(0, 300).Select(i => new { metric = name, value = (double)i, tags = new { endpoint = "/api/nodes" } }).ToArray();

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(metrics)).StatusCode);

        var points = await WaitForPointsAsync("contentmax." + name, 300);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (double)i), points.Select(p => p.Value).Order());
        Assert.All(points, p =>
        {
            Assert.Contains("endpoint:/api/nodes", p.Tags);
            Assert.Contains(p.Tags, t => t.StartsWith("env:", StringComparison.Ordinal));
            Assert.Contains("service:contentmax", p.Tags);
            Assert.InRange(p.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        });
        Assert.All(fixture.Datadog.Requests, r =>
        {
            Assert.Equal(FakeDatadogIntake.ApiKey, r.ApiKey);
            Assert.Equal("gzip", r.ContentEncoding);
            Assert.InRange(r.WireBytes, 1, 512_000);
            Assert.InRange(r.Bytes, 1, 5 * 1024 * 1024);
            Assert.All(r.Body.RootElement.GetProperty("series").EnumerateArray(), s => Assert.Equal(3, s.GetProperty("type").GetInt32()));
        });
    }

    [Fact]
    public async Task WhileTheIntakeFails_NothingIsLost_AndEachPointArrivesOnce()
    {
        var name = MetricsApi.UniqueName();
        fixture.Datadog.FailNext(3);

        foreach (var chunk in Enumerable.Range(0, 500).Select(i => new { metric = name, value = (double)i }).Chunk(100))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        var points = await WaitForPointsAsync("contentmax." + name, 500, TimeSpan.FromSeconds(60));
        Assert.True(fixture.Datadog.Rejected >= 3);
        await Task.Delay(2000); // anything sent twice would show up by now
        points = fixture.Datadog.Points("contentmax." + name);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (double)i), points.Select(p => p.Value).Order());
    }

    private async Task<List<(long Timestamp, double Value, string[] Tags)>> WaitForPointsAsync(string metric, int expected, TimeSpan? timeout = null) =>
        await Eventually.UntilAsync(() => fixture.Datadog.Points(metric), points => points.Count >= expected, timeout ?? TimeSpan.FromSeconds(30),
            points => $"{metric}: {points.Count} of {expected} points reached the intake.", TimeSpan.FromMilliseconds(250));
}
