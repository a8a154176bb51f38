using System.Net;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// Above Aggregation:ExactLimit (1000 in tests) aggregates come from the rollups
// the consumer maintains in Postgres, merged with raw rows at the edges.
[Collection(AppHostCollection.Name)]
public class RollupQueryTests(AppHostFixture fixture)
{
    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task LargeMetric_IsAnsweredFromRollups_WithinOnePercent_AndRedeliveryCountsNothingTwice()
    {
        var name = MetricsApi.UniqueName();
        var random = new Random(99);
        var now = DateTimeOffset.UtcNow;
        // Spread over the last three hours, so whole hours, whole minutes and raw edges all take part.
        var metrics = Enumerable.Range(0, 5000).Select(i => new
        {
            metric = name,
            value = i % 10 == 0 ? 0 : Math.Round(Math.Exp(4 + 1.2 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())), 4),
            timestamp = (now - TimeSpan.FromSeconds(random.Next(0, 3 * 3600))).ToUnixTimeMilliseconds(),
            id = Guid.NewGuid(),
        }).ToArray();

        foreach (var chunk in metrics.Chunk(1000))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        var aggregate = await _aggregation.WaitForCountAsync(name, metrics.Length, period: "24h");
        AssertMatches(metrics.Select(m => m.value).ToArray(), aggregate);

        // The same metrics again (a client retry): the rollups must not count them twice.
        foreach (var chunk in metrics.Chunk(1000))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        var sentinel = MetricsApi.UniqueName();
        await _ingestion.PostAsync(new { metric = sentinel, value = 1 });
        await _aggregation.WaitForCountAsync(sentinel, 1);
        await Task.Delay(500);
        AssertMatches(metrics.Select(m => m.value).ToArray(), (await _aggregation.AggregateAsync(name, "24h"))!);
    }

    private static void AssertMatches(double[] values, JsonObject aggregate)
    {
        var sorted = values.Order().ToArray();
        Assert.False(aggregate["exact"]!.GetValue<bool>());
        Assert.Equal(values.Length, aggregate["count"]!.GetValue<long>());
        Assert.Equal(values.Sum(), aggregate["sum"]!.GetValue<double>(), 3);
        Assert.Equal(sorted[0], aggregate["min"]!.GetValue<double>());
        Assert.Equal(sorted[^1], aggregate["max"]!.GetValue<double>());

        void Within(double exact, string field) =>
            Assert.True(Math.Abs(aggregate[field]!.GetValue<double>() - exact) <= 0.01 * Math.Abs(exact),
                $"{field}: {aggregate[field]} vs exact {exact}");

        Within((sorted[2499] + sorted[2500]) / 2, "median");
        Within(sorted[(int)Math.Ceiling(0.75m * sorted.Length) - 1], "p75");
        Within(sorted[(int)Math.Ceiling(0.95m * sorted.Length) - 1], "p95");
        Within(sorted[(int)Math.Ceiling(0.99m * sorted.Length) - 1], "p99");
    }
}
