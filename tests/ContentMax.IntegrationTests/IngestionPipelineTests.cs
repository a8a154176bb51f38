using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

[Collection(AppHostCollection.Name)]
public class IngestionPipelineTests(AppHostFixture fixture)
{
    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task PostOneMetric_IsAcceptedAndReadBack()
    {
        var name = MetricsApi.UniqueName();

        var response = await _ingestion.PostAsync(new { metric = name, value = 42.5, tags = new { endpoint = "/api/nodes", status = 200 } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonObject>())!["accepted"]!.GetValue<int>());
        var aggregate = await _aggregation.WaitForCountAsync(name, 1);
        foreach (var field in new[] { "sum", "min", "max", "average", "median", "p95", "p99" })
        {
            Assert.Equal(42.5, aggregate[field]!.GetValue<double>());
        }
    }

    [Fact]
    public async Task PostBatchOf1000_AggregatesAreExact()
    {
        var name = MetricsApi.UniqueName();
        var random = new Random(17);
        var values = Enumerable.Range(0, 1000).Select(_ => Math.Round(Math.Exp(random.NextDouble() * 6), 3)).ToArray();

        var response = await _ingestion.PostAsync(values.Select(v => new { metric = name, value = v }).ToArray());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1000, (await response.Content.ReadFromJsonAsync<JsonObject>())!["accepted"]!.GetValue<int>());
        var aggregate = await _aggregation.WaitForCountAsync(name, 1000);

        var sorted = values.Order().ToArray();
        Assert.Equal(1000, aggregate["count"]!.GetValue<long>());
        Assert.Equal(values.Sum(), aggregate["sum"]!.GetValue<double>(), 6);
        Assert.Equal(sorted[0], aggregate["min"]!.GetValue<double>());
        Assert.Equal(sorted[^1], aggregate["max"]!.GetValue<double>());
        Assert.Equal(values.Average(), aggregate["average"]!.GetValue<double>(), 6);
        Assert.Equal((sorted[499] + sorted[500]) / 2, aggregate["median"]!.GetValue<double>());
        Assert.Equal(sorted[949], aggregate["p95"]!.GetValue<double>()); // nearest rank ceil(0.95 × 1000) = 950
        Assert.Equal(sorted[989], aggregate["p99"]!.GetValue<double>()); // nearest rank 990
    }

    [Fact]
    public async Task BatchWithOneInvalidItem_Is400AndStoresNothing()
    {
        var name = MetricsApi.UniqueName();
        var batch = Enumerable.Range(0, 50)
            .Select(i => i == 31 ? (object)new { metric = name, value = "NaN" } : new { metric = name, value = (double)i })
            .ToArray();

        var response = await _ingestion.PostAsync(batch);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Equal(["must be a finite number"], problem["errors"]!["[31].value"]!.AsArray().Select(e => e!.GetValue<string>()));

        // A valid metric sent afterwards goes through the same pipe; once it is
        // stored, anything from the rejected batch would have been too.
        var sentinel = MetricsApi.UniqueName();
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric = sentinel, value = 1 })).StatusCode);
        await _aggregation.WaitForCountAsync(sentinel, 1);
        Assert.Null(await _aggregation.AggregateAsync(name));
    }

    [Fact]
    public async Task ResendingTheSameIds_StoresEachMetricOnce()
    {
        var name = MetricsApi.UniqueName();
        var batch = Enumerable.Range(0, 20).Select(i => new { metric = name, value = (double)i, id = Guid.NewGuid() }).ToArray();

        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(batch)).StatusCode);
        }

        // The third copy is stored (or skipped) before a sentinel sent after it.
        var sentinel = MetricsApi.UniqueName();
        await _ingestion.PostAsync(new { metric = sentinel, value = 1 });
        await _aggregation.WaitForCountAsync(sentinel, 1);
        await _aggregation.WaitForCountAsync(name, 20);
        await Task.Delay(500);
        var aggregate = await _aggregation.AggregateAsync(name);
        Assert.Equal(20, aggregate!["count"]!.GetValue<long>());
        Assert.Equal(190, aggregate["sum"]!.GetValue<double>());
    }

    [Fact]
    public async Task SendBeaconStyleTextPlainWithQueryKey_IsAccepted()
    {
        var name = MetricsApi.UniqueName();
        using var anonymous = fixture.Client("ingestion", key: null);
        var content = new StringContent($$"""{"metric":"{{name}}","value":1800}""", Encoding.UTF8, "text/plain");

        var response = await anonymous.PostAsync($"/api/metrics?key={AppHostFixture.IngestKey}", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _aggregation.WaitForCountAsync(name, 1);
    }

    [Fact]
    public async Task BodyOver1MiB_Is413()
    {
        var huge = new StringContent(new string(' ', 1024 * 1024 + 10) + "{}", Encoding.UTF8, "application/json");
        var response = await _ingestion.PostAsync("/api/metrics", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task RawAndSeries_ReturnStoredRows()
    {
        var name = MetricsApi.UniqueName();
        var batch = Enumerable.Range(0, 25).Select(i => new { metric = name, value = (double)i, tags = new { endpoint = "/api/x" } }).ToArray();
        await _ingestion.PostAsync(batch);
        await _aggregation.WaitForCountAsync(name, 25);

        // Raw rows page through every row exactly once.
        var seen = new HashSet<string>();
        string? cursor = null;
        do
        {
            var page = await _aggregation.GetFromJsonAsync<JsonObject>(
                $"/api/metrics/raw?metric={name}&period=1h&limit=10" + (cursor is null ? "" : $"&cursor={cursor}"));
            var items = page!["items"]!.AsArray();
            Assert.True(items.Count <= 10);
            foreach (var item in items)
            {
                Assert.True(seen.Add(item!["id"]!.GetValue<string>()));
                Assert.Equal("/api/x", item["tags"]!["endpoint"]!.GetValue<string>());
            }

            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        Assert.Equal(25, seen.Count);

        var series = await _aggregation.GetFromJsonAsync<JsonObject>($"/api/metrics/series?metric={name}&period=1h&step=5m");
        var buckets = series!["buckets"]!.AsArray();
        Assert.InRange(buckets.Count, 12, 13);
        Assert.Equal(25, buckets.Sum(b => b!["count"]!.GetValue<long>()));
    }

    [Theory]
    [InlineData("/api/metrics?period=24x", "period")]
    [InlineData("/api/metrics?period=0h", "period")]
    [InlineData("/api/metrics?metric=9bad", "metric")]
    [InlineData("/api/metrics/raw?limit=-1", "limit")]
    [InlineData("/api/metrics/raw?limit=1001", "limit")]
    [InlineData("/api/metrics/raw?cursor=garbage", "cursor")]
    [InlineData("/api/metrics/series?period=1h", "metric")]
    [InlineData("/api/metrics/series?metric=a&period=30d&step=1s", "step")]
    public async Task InvalidQueries_Are400NamingTheParameter(string url, string parameter)
    {
        var response = await _aggregation.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.NotNull(problem["errors"]![parameter]);
    }
}
