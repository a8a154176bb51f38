using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// One ingest key cannot make ContentMax keep unbounded names or series: past
// its hourly limits a request is refused whole with a 429 that names the
// limit, and what was accepted before stays stored.
[Collection(AppHostCollection.Name)]
public class CardinalityTests(AppHostFixture fixture)
{
    private readonly HttpClient _cardinal = fixture.Client("ingestion", AppHostFixture.CardinalKey);
    private readonly HttpClient _reader = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task NamesAndSeriesBeyondTheKeysLimits_Are429NamingTheLimit_AndNothingAcceptedIsLost()
    {
        var names = Enumerable.Range(0, AppHostFixture.CardinalNames + 1).Select(_ => MetricsApi.UniqueName("card")).ToArray();

        // Up to the limit of names: accepted, and again (known names pass).
        for (var i = 0; i < AppHostFixture.CardinalNames; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _cardinal.PostAsJsonAsync("/api/metrics", new { metric = names[i], value = 1 })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await _cardinal.PostAsJsonAsync("/api/metrics", new { metric = names[0], value = 2 })).StatusCode);

        // One more name: the whole request (with a known name in it) is refused.
        using var tooManyNames = await _cardinal.PostAsJsonAsync("/api/metrics", new[] { new { metric = names[0], value = 3 }, new { metric = names[^1], value = 1 } });
        Assert.Equal(HttpStatusCode.TooManyRequests, tooManyNames.StatusCode);
        Assert.NotNull(tooManyNames.Headers.RetryAfter?.Delta);
        var problem = await tooManyNames.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("Ingestion:Cardinality:MaxNamesPerHour", problem!["detail"]!.GetValue<string>());
        Assert.Contains(names[^1], problem["detail"]!.GetValue<string>());

        // Series: a tag with a new value per point passes the per-name limit.
        var series = Enumerable.Range(0, AppHostFixture.CardinalSeries + 1).Select(i => new { metric = names[1], value = 1, tags = new { request_id = $"r{i}" } }).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await _cardinal.PostAsJsonAsync("/api/metrics", series[..(AppHostFixture.CardinalSeries - 1)])).StatusCode);
        using var tooManySeries = await _cardinal.PostAsJsonAsync("/api/metrics", series[(AppHostFixture.CardinalSeries - 1)..]);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooManySeries.StatusCode);
        Assert.Contains("MaxSeriesPerNamePerHour", (await tooManySeries.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());

        // Everything accepted was stored; nothing of the refused requests was.
        async Task<long> CountAsync(string name) =>
            (await _reader.GetFromJsonAsync<JsonObject>($"/api/metrics?period=1h&metric={name}"))!["metrics"]![name]?["count"]?.GetValue<long>() ?? 0;
        await Eventually.UntilAsync(async () => (await CountAsync(names[0]), await CountAsync(names[1]), await CountAsync(names[2])),
            c => c == (2, AppHostFixture.CardinalSeries, 1), TimeSpan.FromSeconds(30), c => $"stored counts {c}");
        Assert.Equal(0, await CountAsync(names[^1]));
    }
}
