using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// The operators' dashboard in a real headless Chromium.
[Collection(AppHostCollection.Name)]
public class DashboardBrowserTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    private async Task SignInAsync(string key = AppHostFixture.ReadKey)
    {
        await Page.GotoAsync(BaseUrl + "/");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await Page.FillAsync("#key", key);
        await Page.ClickAsync("button[type=submit]");
        if (key == AppHostFixture.ReadKey)
        {
            await Expect(Page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
            await Expect(Page.Locator("[data-card=api]")).ToBeVisibleAsync();
        }
    }

    // Every tab names the chosen period as it is ("in the last 24h", then "7d"),
    // never the name of the field that holds it.
    [Fact]
    public async Task EveryTab_NamesThePeriod_NeverAPlaceholder()
    {
        await SignInAsync();
        foreach (var period in new[] { "24h", "7d" })
        {
            await Page.ClickAsync($"[data-period=\"{period}\"]");
            foreach (var tab in new[] { "performance", "errors", "usage", "business", "health", "alerts", "slos" })
            {
                await Page.ClickAsync($"[data-tab={tab}]");
                await Expect(Page.Locator($"[data-tab={tab}]")).ToHaveAttributeAsync("aria-selected", "true");
                await Expect(Page.Locator("main")).Not.ToContainTextAsync("Loading…", new() { Timeout = 30_000 });
                var text = await Page.Locator("main").InnerTextAsync();
                AssertNoPlaceholder(text, tab);
                // Alert and SLO texts speak of their own windows ("in the last 5 minutes").
                if (tab is not ("alerts" or "slos") && text.Contains("in the last", StringComparison.Ordinal)) Assert.Contains($"in the last {period}", text);
            }
        }

        // The explorer, empty and with a metric that has no points.
        foreach (var path in new[] { "/explore", $"/explore?metric={MetricsApi.UniqueName()}&agg=p99&groupBy=route&period=6h" })
        {
            await Page.GotoAsync(BaseUrl + path);
            await Expect(Page.Locator("[data-control=metric]")).ToBeVisibleAsync();
            await Expect(Page.Locator("main")).Not.ToContainTextAsync("Loading…", new() { Timeout = 30_000 });
            AssertNoPlaceholder(await Page.Locator("main").InnerTextAsync(), path);
        }

        Assert.Empty(Browser.ConsoleErrors);
    }

    // A field name, a format item or an unrendered Razor expression printed as
    // text. ({name} is not one: route templates such as /api/alerts/rules/{id}
    // are real endpoint names.)
    private static void AssertNoPlaceholder(string text, string where)
    {
        var found = System.Text.RegularExpressions.Regex.Match(text, @"_period|@[A-Za-z_]|\{[0-9]+(:[^}]*)?\}|\bNaN\b|\bundefined\b|\bnull\b");
        Assert.False(found.Success, $"{where} shows the placeholder '{found.Value}' in: {text}");
    }

    [Fact]
    public async Task WithoutSigningIn_NoDataIsVisible()
    {
        var response = await Page.GotoAsync(BaseUrl + "/");
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await Expect(Page.Locator("[data-card]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task WrongKey_IsRefused()
    {
        await SignInAsync(AppHostFixture.IngestKey);
        await Expect(Page.Locator(".signin-error")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-card]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task SignedIn_HealthCardsShowRealStatuses()
    {
        await SignInAsync();

        await Expect(Page.Locator("[data-card=database]")).ToHaveAttributeAsync("data-status", "healthy", new() { Timeout = 30_000 });
        await Expect(Page.Locator("[data-card=messaging]")).ToHaveAttributeAsync("data-status", "healthy");
        await Expect(Page.Locator("[data-card=cache]")).ToHaveAttributeAsync("data-status", "healthy");
        await Expect(Page.Locator("[data-card=api]")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Uptime: \d+d \d+h \d+m"));
        // There is no internet here: the external APIs are honestly not healthy.
        await Expect(Page.Locator("[data-card=external]")).Not.ToHaveAttributeAsync("data-status", "healthy");
        Assert.Empty(Browser.ConsoleErrors);
    }

    [Fact]
    public async Task PostedMetrics_AppearInEveryTab_WithoutReloading_AndPeriodsSwitch()
    {
        await SignInAsync();
        await Expect(Page.Locator("[data-tab=performance]")).ToBeVisibleAsync();
        await Page.EvaluateAsync("() => window.__sameDocument = true");

        var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        using var aggregation = Fixture.Client("aggregation", AppHostFixture.ReadKey);
        var lcpBefore = (await aggregation.AggregateAsync("LCP", "24h"))?["count"]?.GetValue<long>() ?? 0;
        var lcp = Enumerable.Range(1, 100).Select(i => new { metric = "LCP", value = i * 40.0 }).ToArray(); // p75 = 3000 ms
        var vitals = lcp
            .Concat(Enumerable.Range(1, 20).Select(i => new { metric = "INP", value = i * 5.0 }))
            .Concat(Enumerable.Range(1, 20).Select(i => new { metric = "CLS", value = i / 100.0 }))
            .Concat(Enumerable.Range(1, 20).Select(i => new { metric = "FCP", value = 900.0 + i }))
            .Concat(Enumerable.Range(1, 20).Select(i => new { metric = "TTFB", value = 100.0 * i }))
            .ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(vitals)).StatusCode);

        // Performance: p75 against Google's thresholds, with real charts. Other
        // tests' vitals (per page) count too: the card shows what aggregation
        // answers, which ours alone would put at 3000 ms.
        var lcp24h = await aggregation.WaitForCountAsync("LCP", lcpBefore + 100, period: "24h");
        var lcpValue = lcp24h["p75"]!.GetValue<double>();
        var lcpP75 = $"{lcpValue:0} ms";
        var lcpCard = Page.Locator("[data-vital=LCP]");
        await Expect(lcpCard.Locator("[data-value=p75]")).ToHaveTextAsync(lcpP75, new() { Timeout = 30_000 });
        await Expect(lcpCard).ToHaveAttributeAsync("data-rating", lcpValue <= 2500 ? "good" : lcpValue <= 4000 ? "needs-improvement" : "poor");
        // INP and CLS likewise, rated by Google's thresholds from what aggregation answers.
        foreach (var (vital, good, poor) in new[] { ("INP", 200.0, 500.0), ("CLS", 0.1, 0.25) })
        {
            var p75 = (await aggregation.AggregateAsync(vital, "24h"))!["p75"]!.GetValue<double>();
            await Expect(Page.Locator($"[data-vital={vital}]")).ToHaveAttributeAsync("data-rating", p75 <= good ? "good" : p75 <= poor ? "needs-improvement" : "poor");
        }
        await Expect(Page.Locator("[data-chart=vitals-vs-target] svg path").First).ToBeAttachedAsync();
        await Expect(Page.Locator("[data-chart=vital-trend] svg path").First).ToBeAttachedAsync();
        await Browser.ScreenshotAsync("performance");

        // Errors: the tab counts every error of the period, so other tests' errors
        // (the browser snippet's) are counted too; ours add seven.
        await Page.ClickAsync("[data-tab=errors]");
        var before = (await aggregation.AggregateAsync("errors", "24h"))?["count"]?.GetValue<long>() ?? 0;
        if (before == 0) await Expect(Page.Locator("[data-empty]")).ToBeVisibleAsync();
        await ingestion.PostAsync(Enumerable.Range(0, 7).Select(i => new { metric = "errors", value = 1.0, tags = new { level = "error" } }).ToArray());
        await Expect(Page.Locator("[data-stat=errors-total] .stat-value")).ToHaveTextAsync($"{before + 7}", new() { Timeout = 30_000 });
        await Expect(Page.Locator("[data-chart=errors-per-hour] svg path").First).ToBeAttachedAsync();
        await Browser.ScreenshotAsync("errors");

        // Usage, per endpoint.
        await Page.ClickAsync("[data-tab=usage]");
        var usage = Enumerable.Range(1, 40).SelectMany(i => new object[]
        {
            new { metric = "api_requests", value = 1.0, tags = new { endpoint = i % 2 == 0 ? "/api/nodes" : "/api/projects", status = 200 } },
            new { metric = "api_response_time", value = i * 10.0, tags = new { endpoint = i % 2 == 0 ? "/api/nodes" : "/api/projects", status = 200 } },
        }).ToArray();
        // Other tests' API traffic (the client library's) counts too: ours adds
        // 40 timed responses (the requests the tab counts), and the tab shows
        // what aggregation answers.
        var requestsBefore = (await aggregation.AggregateAsync("api_response_time", "24h"))?["count"]?.GetValue<long>() ?? 0;
        await ingestion.PostAsync(usage);
        await Expect(Page.Locator("[data-stat=requests-total] .stat-value")).ToHaveTextAsync($"{requestsBefore + 40}", new() { Timeout = 30_000 });
        var p95 = (await aggregation.AggregateAsync("api_response_time", "24h"))!["p95"]!.GetValue<double>();
        await Expect(Page.Locator("[data-stat=response-p95] .stat-value")).ToHaveTextAsync($"{p95:0}ms");
        await Expect(Page.Locator("[data-table=endpoints] tbody tr[data-endpoint='/api/nodes']")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-table=endpoints] tbody tr[data-endpoint='/api/projects']")).ToHaveCountAsync(1);
        await Browser.ScreenshotAsync("usage");

        // Business KPIs.
        await Page.ClickAsync("[data-tab=business]");
        await ingestion.PostAsync(new object[]
        {
            new { metric = "opportunities_scored", value = 87.0 },
            new { metric = "opportunities_scored", value = 42.0 },
            new { metric = "revenue_calculated", value = 1200.75 },
            new { metric = "revenue_calculated", value = 800.0 },
            new { metric = "active_projects", value = 12.0 },
        });
        await Expect(Page.Locator("[data-stat=opportunities-scored] .stat-value")).ToHaveTextAsync("2", new() { Timeout = 30_000 });
        await Expect(Page.Locator("[data-stat=revenue-calculated] .stat-value")).ToHaveTextAsync("$2,001");
        await Expect(Page.Locator("[data-stat=active-projects] .stat-value")).ToHaveTextAsync("12");
        await Browser.ScreenshotAsync("business");

        // Health history.
        await Page.ClickAsync("[data-tab=health]");
        await Expect(Page.Locator("[data-table=transitions] tbody tr").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(Page.Locator("[data-chart=uptime] svg path").First).ToBeAttachedAsync();
        await Browser.ScreenshotAsync("health-history");

        // Periods switch, and data stays.
        await Page.ClickAsync("[data-tab=performance]");
        foreach (var period in new[] { "1h", "7d", "30d", "24h" })
        {
            await Page.ClickAsync($"[data-period='{period}']");
            await Expect(Page.Locator($"[data-period='{period}']")).ToHaveAttributeAsync("aria-pressed", "true");
            await Expect(lcpCard.Locator("[data-value=p75]")).ToHaveTextAsync(lcpP75);
        }

        Assert.True(await Page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded");
        Assert.Empty(Browser.ConsoleErrors);
    }
}
