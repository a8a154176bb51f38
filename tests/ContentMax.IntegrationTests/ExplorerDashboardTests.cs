using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// The explorer, the web vitals per page and the Usage tab's counts, in a real
// headless Chromium, checked against what aggregation's API answers and what
// the points posted make exactly.
[Collection(AppHostCollection.Name)]
public class ExplorerDashboardTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    // route → values, each point alternately status 200 and 500.
    private static readonly Dictionary<string, double[]> Routes = new()
    {
        ["/a"] = [.. Enumerable.Range(1, 20).Select(i => i * 10.0)],
        ["/b"] = [.. Enumerable.Range(1, 40).Select(i => i * 3.0)],
        ["/c"] = [.. Enumerable.Range(1, 10).Select(i => i * 50.0)],
    };

    private async Task<string> PostRoutesAsync()
    {
        var metric = MetricsApi.UniqueName("explore_");
        using var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        var points = Routes.SelectMany(r => r.Value.Select((v, i) => new { metric, value = v, tags = new { route = r.Key, status = i % 2 == 0 ? "200" : "500" } })).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(points)).StatusCode);
        using var aggregation = Fixture.Client("aggregation", AppHostFixture.ReadKey);
        await aggregation.WaitForCountAsync(metric, points.Length, period: "6h");
        return metric;
    }

    private static double NearestRank(IEnumerable<double> values, int p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Ceiling(p / 100.0 * sorted.Length) - 1];
    }

    private static string Shown(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private async Task<JsonObject> ApiAsync(string pathAndQuery)
    {
        using var aggregation = Fixture.Client("aggregation", AppHostFixture.ReadKey);
        var response = await aggregation.GetAsync(pathAndQuery);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    [Fact]
    public async Task AnExplorerLink_ReproducesTheGroupedChart_AFilterNarrowsIt_AndTheCsvHoldsTheSameNumbers()
    {
        var metric = await PostRoutesAsync();
        var query = $"?metric={metric}&agg=p95&groupBy=route&period=6h";
        await Browser.SignInAsync(BaseUrl, "/explore" + query);

        // The same query through the API: the page shows exactly its numbers,
        // and those are the exact p95 per route of what was posted.
        var api = await ApiAsync("/api/metrics/series" + query);
        var series = api["series"]!.AsArray().Select(s => s!.AsObject()).ToList();
        Assert.Equal(3, series.Count);
        foreach (var (route, values) in Routes)
        {
            var line = series.Single(s => s["group"]!["route"]!.GetValue<string>() == route);
            Assert.Equal(NearestRank(values, 95), line["total"]!.GetValue<double>());
            Assert.Equal(values.Length, line["count"]!.GetValue<long>());
            var row = Page.Locator($"[data-table=explore-series] tr[data-series='{line["label"]!.GetValue<string>()}']");
            await Expect(row.Locator("[data-value=total]")).ToHaveTextAsync(Shown(NearestRank(values, 95)), new() { Timeout = 30_000 });
            await Expect(row.Locator("[data-value=count]")).ToHaveTextAsync(values.Length.ToString(CultureInfo.InvariantCulture));
        }

        await Expect(Page.Locator("[data-chart=explore] svg path").First).ToBeAttachedAsync();
        await Expect(Page.Locator("[data-chart=explore]")).ToContainTextAsync("/b");
        await Browser.ScreenshotAsync("explore");
        await Expect(Page.Locator("[data-control=agg]")).ToHaveValueAsync("p95");
        await Expect(Page.Locator("[data-control=groupBy-0]")).ToHaveValueAsync("route");

        // "Copy as API call" gives this very query, with the key left to the shell.
        var curl = await Page.Locator("[data-curl]").InnerTextAsync();
        Assert.Contains($"/api/metrics/series?metric={metric}&agg=p95&groupBy=route&period=6h", curl);
        Assert.Contains("$CONTENTMAX_READ_KEY", curl);
        Assert.DoesNotContain(AppHostFixture.ReadKey, curl);

        // A filter narrows it: status 200 only, and the link says so.
        await Page.FillAsync("[data-control=filter-key]", "status");
        await Page.FillAsync("[data-control=filter-value]", "200");
        await Page.ClickAsync("[data-action=add-filter]");
        await Expect(Page).ToHaveURLAsync(new Regex("filter=status%3A200"));
        await Expect(Page.Locator("[data-filter='status:200']")).ToBeVisibleAsync();
        foreach (var (route, values) in Routes)
        {
            var kept = values.Where((_, i) => i % 2 == 0).ToArray();
            var row = Page.Locator($"[data-table=explore-series] tr[data-series='route=/{route.TrimStart('/')}']");
            await Expect(row.Locator("[data-value=count]")).ToHaveTextAsync(kept.Length.ToString(CultureInfo.InvariantCulture), new() { Timeout = 30_000 });
            await Expect(row.Locator("[data-value=total]")).ToHaveTextAsync(Shown(NearestRank(kept, 95)));
        }

        // Export: the CSV carries each route's points, whose counts add up to the filtered whole.
        var csvResponse = await Page.APIRequest.GetAsync(BaseUrl + $"/explore/export.csv?metric={metric}&agg=p95&groupBy=route&filter=status%3A200&period=6h");
        Assert.Equal(200, csvResponse.Status);
        Assert.StartsWith("text/csv", csvResponse.Headers["content-type"]);
        var lines = (await csvResponse.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("series,route,start,count,p95", lines[0]);
        foreach (var (route, values) in Routes)
        {
            var rows = lines.Skip(1).Where(l => l.Split(',')[1] == route).ToList();
            Assert.NotEmpty(rows);
            Assert.Equal(values.Length / 2, rows.Sum(l => long.Parse(l.Split(',')[3], CultureInfo.InvariantCulture)));
            var withData = rows.Where(l => l.Split(',')[3] != "0").ToList();
            if (withData.Count == 1) Assert.Equal(NearestRank(values.Where((_, i) => i % 2 == 0), 95), double.Parse(withData[0].Split(',')[4], CultureInfo.InvariantCulture));
        }

        Assert.Empty(Browser.ConsoleErrors);
    }

    [Fact]
    public async Task WebVitalsPerPage_AreColouredByGooglesThresholds_AndOpenTheExplorer()
    {
        var page = "/pricing-" + Guid.NewGuid().ToString("N")[..8];
        using var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        var points = Enumerable.Range(1, 8).SelectMany(i => new object[]
        {
            new { metric = "LCP", value = 1000.0 + i * 100, tags = new { page } },   // p75 1600: good
            new { metric = "INP", value = 300.0 + i * 10, tags = new { page } },     // p75 360: needs improvement
            new { metric = "CLS", value = 0.3 + i / 100.0, tags = new { page } },    // p75 0.36: poor
        }).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(points)).StatusCode);

        await Browser.SignInAsync(BaseUrl, "/?tab=performance");
        var row = Page.Locator($"[data-table=vitals-per-page] tr[data-page='{page}']");
        await Expect(row.Locator("[data-page-vital=LCP]")).ToHaveAttributeAsync("data-rating", "good", new() { Timeout = 30_000 });
        await Expect(row.Locator("[data-page-vital=LCP]")).ToHaveTextAsync("1600 ms");
        await Expect(row.Locator("[data-page-vital=INP]")).ToHaveAttributeAsync("data-rating", "needs-improvement");
        await Expect(row.Locator("[data-page-vital=INP]")).ToHaveTextAsync("360 ms");
        await Expect(row.Locator("[data-page-vital=CLS]")).ToHaveAttributeAsync("data-rating", "poor");
        await Expect(row.Locator("[data-page-vital=CLS]")).ToHaveTextAsync("0.360");
        await Browser.ScreenshotAsync("vitals-per-page");

        await row.Locator("a[data-explore]").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex($"/explore\\?metric=LCP&agg=p75&filter=page%3A{Regex.Escape(Uri.EscapeDataString(page))}"));
        await Expect(Page.Locator($"[data-filter='page:{page}']")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-table=explore-series] tr[data-series=all] [data-value=total]")).ToHaveTextAsync("1600", new() { Timeout = 30_000 });
        Assert.Empty(Browser.ConsoleErrors);
    }

    // One screen never contradicts itself: the Requests card is the sum of the
    // endpoint rows, whatever else is flowing, and 300 timed responses tagged
    // by endpoint count as 300 requests (the card once said 0 beside them).
    [Fact]
    public async Task UsageTab_RequestsCard_EqualsTheSumOfItsRows()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (first, second) = ($"/api/nodes-{tag}", $"/api/projects-{tag}");
        using var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        var points = Enumerable.Range(0, 300)
            .Select(i => new { metric = "api_response_time", value = 20.0 + i % 50, tags = new { endpoint = i < 164 ? first : second } })
            .ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(points)).StatusCode);

        await Browser.SignInAsync(BaseUrl, "/?tab=usage");
        await Expect(Page.Locator($"[data-table=endpoints] tr[data-endpoint='{first}'] [data-value=requests]")).ToHaveTextAsync("164", new() { Timeout = 30_000 });
        await Expect(Page.Locator($"[data-table=endpoints] tr[data-endpoint='{second}'] [data-value=requests]")).ToHaveTextAsync("136");

        // Read in one go, so a refresh in between cannot split the two.
        var shown = await Page.EvaluateAsync<long[]>("""
            () => [
                Number(document.querySelector('[data-stat=requests-total] .stat-value').textContent),
                Number(document.querySelector('[data-table=endpoints] [data-value=requests-sum]').textContent),
                [...document.querySelectorAll('[data-table=endpoints] tbody [data-value=requests]')].reduce((s, td) => s + Number(td.textContent), 0),
            ]
            """);
        Assert.True(shown[0] >= 300, $"the card shows {shown[0]} requests");
        Assert.Equal(shown[0], shown[1]);
        Assert.Equal(shown[0], shown[2]);
        await Expect(Page.Locator("[data-stat=requests-total] [data-counts]")).ToContainTextAsync("api_response_time");
        Assert.Empty(Browser.ConsoleErrors);
    }
}
