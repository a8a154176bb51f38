using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// The Alerts and SLOs tabs, and the runbook pages, in a real headless Chromium.
[Collection(AppHostCollection.Name)]
public class AlertsDashboardTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    [Fact]
    public async Task AlertsTab_ListsFiringAlertsFirst_WithARunbookLinkThatOpens()
    {
        var id = $"ui-{Guid.NewGuid().ToString("N")[..10]}";
        var metric = MetricsApi.UniqueName();
        using var admin = Fixture.Client("aggregation", AppHostFixture.AdminKey);
        var put = await admin.PutAsJsonAsync($"/api/alerts/rules/{id}", new
        {
            name = $"UI test {id}",
            kind = "threshold",
            severity = "critical",
            select = new { metric },
            aggregate = "max",
            window = "1h",
            op = ">",
            threshold = 1,
            labels = new { },
            runbook = "api-latency",
        });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(new { metric, value = 5 })).StatusCode);

        // Notifications link to /?tab=alerts: the sign-in returns there.
        await Browser.SignInAsync(BaseUrl, "/?tab=alerts");
        var row = Page.Locator($"[data-table=alerts] tr[data-alert={id}]");
        await Expect(row).ToHaveAttributeAsync("data-state", "firing", new() { Timeout = 60_000 });
        await Expect(Page.Locator("[data-table=alerts] tbody tr").First).ToHaveAttributeAsync("data-state", "firing");
        await Expect(Page.Locator("[data-stat=alerts-firing] .stat-value")).Not.ToHaveTextAsync("0");
        await Expect(Page.Locator("[data-table=alert-history]")).ToContainTextAsync($"UI test {id}");

        await row.Locator("a[data-runbook]").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/runbooks/api-latency$"));
        await Expect(Page.Locator("article.runbook h1")).ToHaveTextAsync("API p95 latency above 800 ms (alert api-latency-p95)");
        Assert.Empty(Browser.ConsoleErrors);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/alerts/rules/{id}")).StatusCode);
    }

    [Fact]
    public async Task SlosTab_ShowsBudgetsBurnRatesAndCharts()
    {
        await Browser.SignInAsync(BaseUrl);
        await Page.ClickAsync("[data-tab=slos]");

        var slo = Page.Locator("[data-slo=api-availability]");
        await Expect(slo).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(slo.Locator("h3.section-title")).ToContainTextAsync("99.9% over 30d");
        await Expect(slo.Locator("[data-table=burn-rates] tbody tr")).ToHaveCountAsync(5);
        await Expect(slo.Locator("[data-table=burn-rates] tr[data-window='3d']")).ToBeVisibleAsync();
        await Expect(slo.Locator("[data-stat=budget] .stat-value")).ToContainTextAsync("%");
        await Expect(slo.Locator("[data-chart=budget] svg")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-slo=api-latency]")).ToBeVisibleAsync();
        Assert.Empty(Browser.ConsoleErrors);
    }

    [Fact]
    public async Task RunbookPages_AreReadableWithoutSigningIn_AndListEveryRunbook()
    {
        var response = await Page.GotoAsync(BaseUrl + "/runbooks");
        Assert.Equal(200, response!.Status);
        await Expect(Page.Locator("article.runbook li")).ToHaveCountAsync(Directory.GetFiles(RunbookDirectory(), "*.md").Length - 1);

        await Page.GotoAsync(BaseUrl + "/runbooks/slo-burn");
        await Expect(Page.Locator("article.runbook table")).ToBeVisibleAsync();
        await Page.Locator("article.runbook a[href='/runbooks/error-rate']").First.ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/runbooks/error-rate$"));
        await Expect(Page.Locator("article.runbook h1")).ToContainTextAsync("Error rate above 5%");

        await Page.GotoAsync(BaseUrl + "/runbooks/no-such-page");
        await Expect(Page.Locator("article.runbook h1")).ToHaveTextAsync("No such runbook");
    }

    private static string RunbookDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ContentMax.sln"))) directory = directory.Parent;
        return Path.Combine(directory!.FullName, "docs", "runbooks");
    }
}
