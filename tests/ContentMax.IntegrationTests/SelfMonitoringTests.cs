using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// ContentMax watching itself, on an AppHost as `dotnet run` starts it (the
// shared test AppHost turns self-monitoring off so its tests count only their
// own points): the services' API traffic, the dashboard's web vitals and its
// component failures fill the Performance, Usage and Errors tabs, and
// ingestion's own requests are aggregated rather than turned into points one
// for one.
[Collection(SelfMonitoringCollection.Name)]
public class SelfMonitoringTests(SelfMonitoringFixture fixture) : IAsyncLifetime
{
    private BrowserSession _browser = null!;
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    public async Task InitializeAsync() => _browser = await BrowserSession.StartAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    // Sign-in attempts from one address are limited (Dashboard:SignInAttemptsPerMinute
    // per Dashboard:SignInWindow, 5 s here):
    // past the limit the form is answered 429 with Retry-After, whatever it carries.
    [Fact]
    public async Task SignInAttempts_AreLimitedPerAddress()
    {
        using var dashboard = new HttpClient { BaseAddress = fixture.App.GetEndpoint("dashboard", "http") };
        var statuses = new List<System.Net.HttpStatusCode>();
        HttpResponseMessage? last = null;
        // The window may have been opened by the other test's sign-in and roll over
        // once while this runs: at most two windows' worth get through.
        for (var i = 0; i < 2 * SelfMonitoringFixture.SignInAttemptsPerMinute + 2; i++)
        {
            last?.Dispose();
            last = await dashboard.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = $"guess-{i}" }));
            statuses.Add(last.StatusCode);
            if (last.StatusCode == System.Net.HttpStatusCode.TooManyRequests) break;
        }

        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, last!.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), last.Headers.RetryAfter?.Delta);
        // Forms without the page's antiforgery token are bad requests, never server errors.
        Assert.All(statuses.Where(s => s != System.Net.HttpStatusCode.TooManyRequests), s => Assert.Equal(System.Net.HttpStatusCode.BadRequest, s));
        last.Dispose();
        // The window passes (the other test here signs in too).
        await Task.Delay(TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task ClickingAroundTheDashboard_FillsThePerformanceUsageAndErrorsTabs()
    {
        var page = _browser.Page;
        var dashboard = fixture.App.GetEndpoint("dashboard", "http").ToString().TrimEnd('/');
        await _browser.SignInAsync(dashboard, "/diagnostics");
        await page.ClickAsync("[data-monitoring-test=dashboard-error]");
        await Expect(page.Locator("[data-error-boundary=diagnostics]")).ToBeVisibleAsync();

        // A few views, each a page load that reports its web vitals when it is left.
        foreach (var tab in new[] { "performance", "usage", "errors", "business", "alerts" })
        {
            await page.GotoAsync($"{dashboard}/?tab={tab}");
            await Expect(page.Locator($"[data-tab={tab}]")).ToHaveAttributeAsync("aria-selected", "true");
        }

        // The dashboard's own pages, its queries to aggregation and its component failure.
        var fcp = await Eventually.UntilAsync(() => RawAsync("FCP"), rows => rows.Any(r => Tag(r, "service") == "dashboard"),
            TimeSpan.FromSeconds(60), rows => $"{rows.Count} FCP points, none from the dashboard");
        Assert.All(fcp.Where(r => Tag(r, "service") == "dashboard"), r => Assert.NotNull(Tag(r, "route")));
        var requests = await Eventually.UntilAsync(() => RawAsync("api_requests"),
            rows => rows.Any(r => Tag(r, "service") == "aggregation" && Tag(r, "route") == "/api/metrics/"),
            TimeSpan.FromSeconds(60), rows => $"api_requests from: {string.Join(", ", rows.Select(r => $"{Tag(r, "service")} {Tag(r, "route")}").Distinct())}");
        Assert.DoesNotContain(requests, r => Tag(r, "route") is { } route && route.Contains('?'));
        var errors = await Eventually.UntilAsync(() => RawAsync("errors"),
            rows => rows.Any(r => Tag(r, "service") == "dashboard" && Tag(r, "component") == "diagnostics"),
            TimeSpan.FromSeconds(60), rows => $"{rows.Count} errors points");
        Assert.Contains(errors, r => Tag(r, "type") == "DashboardTestException" && Tag(r, "level") == "error");

        // And the tabs show them.
        await page.GotoAsync($"{dashboard}/?tab=performance");
        await Expect(page.Locator("[data-vital=FCP] [data-value=p75]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.ClickAsync("[data-tab=usage]");
        await Expect(page.Locator("[data-table=endpoints] tbody tr").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.ClickAsync("[data-tab=errors]");
        await Expect(page.Locator("[data-stat=errors-total] .stat-value")).Not.ToHaveTextAsync("0", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-empty]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task IngestionsOwnRequests_AreAggregated_NotStoredOneForOne()
    {
        using var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        var name = MetricsApi.UniqueName();
        const int posts = 1500;
        var started = DateTimeOffset.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, posts), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var response = await ingestion.PostAsJsonAsync("/api/metrics", new { metric = name, value = i }, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
        var seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;

        // Every ingest request is counted, in a handful of points.
        var points = await Eventually.UntilAsync(async () => (await RawAsync("api_requests"))
                .Where(r => Tag(r, "service") == "ingestion" && Tag(r, "route") == "/api/metrics/" && Tag(r, "method") == "POST" && Tag(r, "status") == "202")
                .Where(r => DateTimeOffset.FromUnixTimeMilliseconds(r["timestamp"]!.GetValue<long>()) >= started.AddSeconds(-1))
                .ToList(),
            rows => rows.Sum(r => r["count"]!.GetValue<long>()) >= posts, TimeSpan.FromSeconds(60),
            rows => $"{rows.Sum(r => r["count"]!.GetValue<long>())} ingest requests counted in {rows.Count} points");
        Assert.InRange(points.Count, 1, (int)Math.Ceiling(seconds) + 5);
    }

    private async Task<List<JsonObject>> RawAsync(string metric)
    {
        var raw = await _aggregation.GetFromJsonAsync<JsonObject>($"/api/metrics/raw?metric={metric}&period=1h&limit=1000");
        return raw!["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
    }

    private static string? Tag(JsonObject row, string tag) => row["tags"]?[tag]?.GetValue<string>();
}

public sealed class SelfMonitoringFixture : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "contentmax-self-" + Guid.NewGuid().ToString("N")[..12]);

    public DistributedApplication App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ContentMax_AppHost>(
        [
            .. LocalAppHostArgs.For(_dataDirectory, AppHostFixture.IngestKey, AppHostFixture.ReadKey, AppHostFixture.AdminKey),
            "Dashboard:MetricsRefresh=00:00:02",
            "Dashboard:HealthRefresh=00:00:02",
            // Few enough for SignInAttempts_AreLimitedPerAddress to reach (the other test signs in once).
            $"Dashboard:SignInAttemptsPerMinute={SignInAttemptsPerMinute}",
            "Dashboard:SignInWindow=5s",
        ]);
        App = await TestAppHost.StartAsync(builder);
    }

    public const int SignInAttemptsPerMinute = 4;

    public HttpClient Client(string service, string key) => TestAppHost.Client(App, service, key);

    public Task DisposeAsync() => TestAppHost.StopAsync(App, _dataDirectory);
}

[CollectionDefinition(Name)]
public sealed class SelfMonitoringCollection : ICollectionFixture<SelfMonitoringFixture>
{
    public const string Name = "SelfMonitoring";
}
