using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// ContentMax.Monitoring.Client end to end: a service of the tests' own sends
// its request metrics through the AppHost's ingestion, and aggregation reads
// them back per route template; failing requests raise the shipped error-rate alert.
[Collection(AppHostCollection.Name)]
public class MonitoringClientTests(AppHostFixture fixture)
{
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    private async Task<JsonObject> BreakdownAsync(string metric) =>
        (await _aggregation.GetFromJsonAsync<JsonObject>($"/api/metrics/breakdown?metric={metric}&tag=route&period=1h&limit=500"))!["values"]!.AsObject();

    private static long CountOf(JsonObject values, string route) => values[route]?["count"]?.GetValue<long>() ?? 0;

    // Raw rows of a metric from one service, newest first.
    private async Task<List<JsonObject>> RawAsync(string metric, string service)
    {
        var rows = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var page = (await _aggregation.GetFromJsonAsync<JsonObject>($"/api/metrics/raw?metric={metric}&period=1h&limit=1000" + (cursor is null ? "" : "&cursor=" + cursor)))!;
            rows.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()).Where(i => i["tags"]?["service"]?.GetValue<string>() == service));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return rows;
    }

    [Fact]
    public async Task RequestMetrics_AreStoredPerRouteTemplate_WithResponseTimesAndErrors()
    {
        await using var app = await MonitoredApp.StartAsync(fixture);
        var statuses = await app.GetAsync([
            .. Enumerable.Range(1, 10).Select(i => $"/{app.Prefix}/items/{i}"),
            .. Enumerable.Range(1, 3).Select(i => $"/{app.Prefix}/orders/{100 + i}/lines/{i}"),
            .. Enumerable.Repeat($"/{app.Prefix}/boom", 4),
            .. Enumerable.Repeat("/health", 5),
        ]);
        Assert.Equal(10 + 3 + 5, statuses.Count(s => s == 200));
        Assert.Equal(4, statuses.Count(s => s == 500));
        await app.StopAsync();
        Assert.Equal(0, app.Counters.Dropped);

        var requests = await Eventually.UntilAsync(() => BreakdownAsync("api_requests"),
            v => CountOf(v, app.ItemsRoute) == 10 && CountOf(v, app.LinesRoute) == 3 && CountOf(v, app.BoomRoute) == 4,
            TimeSpan.FromSeconds(60), v => $"api_requests per route: {v.ToJsonString()}", TimeSpan.FromMilliseconds(500));
        // Route templates only: no raw path with an id in it.
        Assert.DoesNotContain(requests, kv => kv.Key.StartsWith($"/{app.Prefix}/", StringComparison.Ordinal) && !kv.Key.Contains('{') && kv.Key != app.BoomRoute);

        var times = await BreakdownAsync("api_response_time");
        Assert.Equal(10, CountOf(times, app.ItemsRoute));
        Assert.Equal(3, CountOf(times, app.LinesRoute));
        Assert.True(times[app.ItemsRoute]!["p95"]!.GetValue<double>() >= 0);

        var rows = await RawAsync("api_requests", app.Service);
        Assert.All(rows, r => Assert.Equal("monitoring-client", r["tags"]!["test"]!.GetValue<string>()));
        Assert.DoesNotContain(rows, r => r["tags"]!["route"]!.GetValue<string>() == "/health");
        Assert.Contains(rows, r => r["tags"]!["route"]!.GetValue<string>() == app.BoomRoute && r["tags"]!["status"]!.GetValue<string>() == "500");
        Assert.Contains(rows, r => r["tags"]!["route"]!.GetValue<string>() == app.LinesRoute && r["tags"]!["method"]!.GetValue<string>() == "GET");

        var errors = await RawAsync("errors", app.Service);
        Assert.Equal(4, errors.Sum(e => e["count"]!.GetValue<long>()));
        Assert.All(errors, e =>
        {
            Assert.Equal("error", e["tags"]!["level"]!.GetValue<string>());
            Assert.Equal(nameof(InvalidOperationException), e["tags"]!["type"]!.GetValue<string>());
            Assert.Equal(app.BoomRoute, e["tags"]!["route"]!.GetValue<string>());
        });
    }

    // The shipped rule: errors / api_requests > 5% over 5 minutes, at least 50
    // requests, for 2 minutes. A burst of failing requests keeps the ratio
    // above it for the whole window, whatever else the suite sends.
    [Fact]
    public async Task FailingRequests_FireTheShippedErrorRateAlert()
    {
        var before = await ErrorRateAsync();
        await using var app = await MonitoredApp.StartAsync(fixture);
        var statuses = await app.GetAsync([
            .. Enumerable.Repeat($"/{app.Prefix}/boom", 400),
            .. Enumerable.Range(1, 100).Select(i => $"/{app.Prefix}/items/{i}"),
        ]);
        Assert.Equal(400, statuses.Count(s => s == 500));

        var firing = await Eventually.UntilAsync(ErrorRateAsync, a => a["state"]!.GetValue<string>() == "firing",
            TimeSpan.FromMinutes(4), a => $"error-rate stayed {a["state"]} (before the test: {before["state"]}): {a.ToJsonString()}", TimeSpan.FromSeconds(2));
        Assert.True(firing["value"]!.GetValue<double>() > 0.05, firing.ToJsonString());
        Assert.Equal("critical", firing["severity"]!.GetValue<string>());

        // Leave the system healthy: enough successful requests to bring the
        // ratio back under 5%, so the alert resolves once keepFiringFor has passed.
        await app.GetAsync(Enumerable.Range(1, 9000).Select(i => $"/{app.Prefix}/items/{i}"), concurrency: 16);
        await app.StopAsync();
        Assert.Equal(0, app.Counters.Dropped);
        await Eventually.UntilAsync(ErrorRateAsync, a => a["value"] is JsonValue v && v.GetValue<double>() < 0.05,
            TimeSpan.FromSeconds(60), a => $"the error rate stayed at {a["value"]}", TimeSpan.FromSeconds(1));
    }

    private async Task<JsonObject> ErrorRateAsync()
    {
        var body = (await _aggregation.GetFromJsonAsync<JsonObject>("/api/alerts"))!;
        return body["alerts"]!.AsArray().Select(a => a!.AsObject()).Single(a => a["id"]!.GetValue<string>() == "error-rate");
    }
}
