using System.Net;

namespace ContentMax.IntegrationTests;

// Aggregation forwards every stored metric to a local Datadog-compatible
// intake, each as its kind: counts summed per second, gauges, and
// distributions with every value.
[Collection(AppHostCollection.Name)]
public class DatadogForwardingTests(AppHostFixture fixture)
{
    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);

    [Fact]
    public async Task EachKind_ArrivesAsItsDatadogType_WithOnlyAllowedTags_WithinTheSizeLimit()
    {
        var count = MetricsApi.UniqueName() + "_total";
        var timing = MetricsApi.UniqueName() + "_ms";
        var gauge = MetricsApi.UniqueName();
        var counts = Enumerable.Range(0, 300).Select(_ => new { metric = count, value = 1.0, tags = new { route = "/api/nodes", user_id = "u-42" } });
        var timings = Enumerable.Range(0, 200).Select(i => new { metric = timing, value = (double)i, tags = new { route = "/api/nodes", user_id = "u-42" } });
        var gauges = Enumerable.Range(0, 20).Select(i => new { metric = gauge, value = (double)i, tags = new { route = "/api/nodes", user_id = "u-42" } });

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(counts.Concat(timings).Concat(gauges).ToArray())).StatusCode);

        // Counts: type 1, summed per second: every request counted once.
        var countPoints = await Eventually.UntilAsync(() => Task.FromResult(fixture.Datadog.Points("contentmax." + count)), p => p.Sum(x => x.Value) >= 300,
            TimeSpan.FromSeconds(30), p => $"{p.Sum(x => x.Value)} of 300 counted");
        Assert.Equal(300, countPoints.Sum(p => p.Value));
        Assert.All(countPoints, p => Assert.Equal(1, p.Type));
        Assert.Equal(countPoints.Count, countPoints.Select(p => p.Timestamp).Distinct().Count());

        // Distributions: every value, so Datadog's percentiles are over all of them.
        var values = await Eventually.UntilAsync(() => Task.FromResult(fixture.Datadog.DistributionValues("contentmax." + timing)), v => v.Count >= 200,
            TimeSpan.FromSeconds(30), v => $"{v.Count} of 200 values");
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (double)i), values.Select(v => v.Value).Order());

        // Gauges: type 3, one value per second.
        var gaugePoints = fixture.Datadog.Points("contentmax." + gauge);
        Assert.NotEmpty(gaugePoints);
        Assert.All(gaugePoints, p => Assert.Equal(3, p.Type));
        Assert.Equal(gaugePoints.Count, gaugePoints.Select(p => p.Timestamp).Distinct().Count());

        Assert.All(countPoints.Select(p => p.Tags).Concat(values.Select(v => v.Tags)).Concat(gaugePoints.Select(p => p.Tags)), tags =>
        {
            Assert.Contains("route:/api/nodes", tags);
            Assert.DoesNotContain(tags, t => t.StartsWith("user_id:", StringComparison.Ordinal));
            Assert.Single(tags, t => t.StartsWith("env:", StringComparison.Ordinal));
            Assert.Contains("service:contentmax", tags);
        });
        Assert.All(fixture.Datadog.Requests, r =>
        {
            Assert.Equal(FakeDatadogIntake.ApiKey, r.ApiKey);
            Assert.Equal("gzip", r.ContentEncoding);
            Assert.InRange(r.WireBytes, 1, 512_000);
            Assert.InRange(r.Bytes, 1, 5 * 1024 * 1024);
        });
    }

    [Fact]
    public async Task WhileTheIntakeFails_NothingIsLost_AndEachValueArrivesOnce()
    {
        var name = MetricsApi.UniqueName() + "_ms";
        fixture.Datadog.FailNext(3);

        foreach (var chunk in Enumerable.Range(0, 500).Select(i => new { metric = name, value = (double)i }).Chunk(100))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        await WaitForValuesAsync("contentmax." + name, 500, TimeSpan.FromSeconds(60));
        Assert.True(fixture.Datadog.Rejected >= 3);
        await Task.Delay(2000); // anything sent twice would show up by now
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (double)i), fixture.Datadog.DistributionValues("contentmax." + name).Select(v => v.Value).Order());
    }

    // A refused key (403) pauses forwarding and keeps the points; they arrive
    // once the key is accepted again, each once.
    [Fact]
    public async Task ARefusedKey_KeepsThePoints_UntilItIsAcceptedAgain()
    {
        var name = MetricsApi.UniqueName() + "_ms";
        fixture.Datadog.RefuseKeyNext(2);

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(Enumerable.Range(0, 50).Select(i => new { metric = name, value = (double)i }).ToArray())).StatusCode);

        await WaitForValuesAsync("contentmax." + name, 50, TimeSpan.FromSeconds(60));
        Assert.True(fixture.Datadog.KeyRefused >= 2);
        await Task.Delay(2000);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (double)i), fixture.Datadog.DistributionValues("contentmax." + name).Select(v => v.Value).Order());
    }

    // A body Datadog calls malformed (400) is split until the one bad point is
    // isolated: every other point arrives, the bad one is dropped.
    [Fact]
    public async Task AMalformedPoint_IsIsolated_AndEveryOtherPointArrives()
    {
        var name = MetricsApi.UniqueName() + "_ms";
        const double bad = 123456.789;
        fixture.Datadog.RejectValue(bad);
        var values = Enumerable.Range(0, 64).Select(i => (double)i).Append(bad).ToArray();

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(values.Select(v => new { metric = name, value = v }).ToArray())).StatusCode);

        await WaitForValuesAsync("contentmax." + name, 64, TimeSpan.FromSeconds(60));
        await Task.Delay(2000);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => (double)i), fixture.Datadog.DistributionValues("contentmax." + name).Select(v => v.Value).Order());
        Assert.True(fixture.Datadog.BadRequests >= 1);
    }

    private async Task WaitForValuesAsync(string metric, int expected, TimeSpan timeout) =>
        await Eventually.UntilAsync(() => Task.FromResult(fixture.Datadog.DistributionValues(metric)), v => v.Count >= expected, timeout,
            v => $"{metric}: {v.Count} of {expected} values reached the intake.", TimeSpan.FromMilliseconds(250));
}
