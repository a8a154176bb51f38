using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// Operators acting on alerts from the dashboard, in a real headless Chromium:
// an admin session silences, expires, edits; a read session can do none of it.
[Collection(AppHostCollection.Name)]
public class AlertActionsDashboardTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    // A rule that fires as soon as its metric has a point above 1.
    private async Task<(string Id, string Metric)> FiringRuleAsync()
    {
        var id = $"act-{Guid.NewGuid().ToString("N")[..10]}";
        var metric = MetricsApi.UniqueName();
        using var admin = Fixture.Client("aggregation", AppHostFixture.AdminKey);
        var put = await admin.PutAsJsonAsync($"/api/alerts/rules/{id}", new
        {
            name = $"Action test {id}",
            kind = "threshold",
            severity = "warning",
            select = new { metric },
            aggregate = "max",
            window = "1h",
            op = ">",
            threshold = 1,
            runbook = "api-latency",
        });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(new { metric, value = 5 })).StatusCode);
        return (id, metric);
    }

    private async Task DeleteRuleAsync(string id)
    {
        using var admin = Fixture.Client("aggregation", AppHostFixture.AdminKey);
        await admin.DeleteAsync($"/api/alerts/rules/{id}");
    }

    [Fact]
    public async Task AnAdminSession_SilencesAFiringAlertFromItsRow_SeesTheSilence_AndExpiresIt()
    {
        var (id, metric) = await FiringRuleAsync();
        // A named key with the admin role: the record says which operator acted.
        await Browser.SignInAsync(BaseUrl, "/?tab=alerts", AppHostFixture.OpsConsoleKey);
        await Expect(Page.Locator("[data-session=admin]")).ToBeVisibleAsync();
        var row = Page.Locator($"[data-table=alerts] tr[data-alert={id}]");
        await Expect(row).ToHaveAttributeAsync("data-state", "firing", new() { Timeout = 60_000 });

        // The row links to its runbook and to the explorer on the rule's metric.
        await Expect(row.Locator("a[data-runbook]")).ToHaveAttributeAsync("href", new Regex("/runbooks/api-latency$"));
        await Expect(row.Locator("a[data-explore]")).ToHaveAttributeAsync("href", new Regex($"^/explore\\?metric={metric}&agg=max&"));

        await row.Locator("[data-action=silence]").ClickAsync();
        var form = Page.Locator($"form[data-form=silence][data-rule={id}]");
        await form.Locator("[data-field=duration]").SelectOptionAsync("4h");
        await form.Locator("[data-field=comment]").FillAsync("deploying the fix");
        await Browser.ScreenshotAsync("alert-silence-form");
        await form.Locator("[data-action=confirm-silence]").ClickAsync();

        // The alert shows as silenced, the silence is listed as active, and the
        // change is recorded under the admin key's name.
        await Expect(row.Locator(".alert-silenced")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var silence = Page.Locator($"[data-table=silences] tr[data-matchers='alertname={id}']");
        await Expect(silence).ToHaveAttributeAsync("data-state", "active");
        await Expect(silence).ToContainTextAsync("deploying the fix");
        var audit = Page.Locator("[data-table=alert-audit] tr[data-audit='silence.created']").First;
        await Expect(audit.Locator("[data-value=actor]")).ToHaveTextAsync(AppHostFixture.OpsConsoleName);

        using var read = Fixture.Client("aggregation", AppHostFixture.ReadKey);
        var silences = await read.GetFromJsonAsync<JsonArray>("/api/alerts/silences");
        var created = silences!.Single(s => s!["matchers"]!["alertname"]?.GetValue<string>() == id)!;
        Assert.Equal("deploying the fix", created["comment"]!.GetValue<string>());
        var endsIn = DateTimeOffset.Parse(created["endsAt"]!.GetValue<string>()) - DateTimeOffset.UtcNow;
        Assert.InRange(endsIn, TimeSpan.FromHours(3.9), TimeSpan.FromHours(4));

        // Expire it from its row.
        await silence.Locator("[data-action=expire-silence]").ClickAsync();
        await Expect(silence).ToHaveAttributeAsync("data-state", "expired", new() { Timeout = 30_000 });
        await Expect(row.Locator(".alert-silenced")).ToHaveCountAsync(0);
        await Expect(Page.Locator("[data-table=alert-audit] tr[data-audit='silence.expired']").First.Locator("[data-value=actor]"))
            .ToHaveTextAsync(AppHostFixture.OpsConsoleName);
        Assert.Equal(AppHostFixture.OpsConsoleName, created["createdBy"]!.GetValue<string>());
        Assert.Empty(Browser.ConsoleErrors);

        await DeleteRuleAsync(id);
    }

    [Fact]
    public async Task AnAdminSession_CreatesARule_SeesErrorsBesideTheirFields_PreviewsIt_AndDeletesIt()
    {
        var metric = MetricsApi.UniqueName();
        using var ingestion = Fixture.Client("ingestion", AppHostFixture.IngestKey);
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(new[] { new { metric, value = 40.0 }, new { metric, value = 70.0 } })).StatusCode);
        using var read = Fixture.Client("aggregation", AppHostFixture.ReadKey);
        await read.WaitForCountAsync(metric, 2);

        var id = $"ui-new-{Guid.NewGuid().ToString("N")[..8]}";
        await Browser.SignInAsync(BaseUrl, "/?tab=alerts", AppHostFixture.AdminKey);
        await Page.ClickAsync("[data-action=new-rule]");
        var form = Page.Locator("form[data-form=rule]");
        await form.Locator("[data-field=id]").FillAsync(id);
        await form.Locator("[data-field=name]").FillAsync("Created from the dashboard");
        await form.Locator("[data-field='select.metric']").FillAsync(metric);
        await form.Locator("[data-field=aggregate]").SelectOptionAsync("max");
        await form.Locator("[data-field=window]").FillAsync("soon");
        await form.Locator("[data-field=threshold]").FillAsync("50");
        await form.Locator("[data-action=save-rule]").ClickAsync();

        // Aggregation's reason shows beside the window field, and nothing was stored.
        await Expect(form.Locator("[data-error-for=window]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.Equal(HttpStatusCode.NotFound, (await read.GetAsync($"/api/alerts/rules/{id}")).StatusCode);

        // Preview: the rule's value now (max 70 > 50), still nothing stored.
        await form.Locator("[data-field=window]").FillAsync("1h");
        await form.Locator("[data-action=preview-rule]").ClickAsync();
        await Expect(form.Locator("[data-preview=rule] [data-value=preview]")).ToHaveTextAsync("70", new() { Timeout = 30_000 });
        await Expect(form.Locator("[data-preview=rule]")).ToContainTextAsync("would fire");
        await Browser.ScreenshotAsync("rule-editor");
        Assert.Equal(HttpStatusCode.NotFound, (await read.GetAsync($"/api/alerts/rules/{id}")).StatusCode);

        await form.Locator("[data-action=save-rule]").ClickAsync();
        var row = Page.Locator($"[data-table=alerts] tr[data-alert={id}]");
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync($"/api/alerts/rules/{id}")).StatusCode);
        await Expect(Page.Locator($"[data-table=alert-audit] tr[data-audit='rule.created'][data-target={id}] [data-value=actor]")).ToHaveTextAsync("admin");

        await row.Locator("[data-action=delete-rule]").ClickAsync();
        await Expect(row).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        Assert.Equal(HttpStatusCode.NotFound, (await read.GetAsync($"/api/alerts/rules/{id}")).StatusCode);
        await Expect(Page.Locator($"[data-table=alert-audit] tr[data-audit='rule.deleted'][data-target={id}]")).ToBeVisibleAsync();
        Assert.Empty(Browser.ConsoleErrors);
    }

    [Fact]
    public async Task AReadSession_HasNoAdminControls_AndItsKeyIsRefusedAdminActions()
    {
        var (id, _) = await FiringRuleAsync();
        await Browser.SignInAsync(BaseUrl, "/?tab=alerts");
        await Expect(Page.Locator("[data-session=read]")).ToBeVisibleAsync();
        var row = Page.Locator($"[data-table=alerts] tr[data-alert={id}]");
        await Expect(row).ToHaveAttributeAsync("data-state", "firing", new() { Timeout = 60_000 });
        await Expect(Page.Locator("[data-session-note=read]")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-action]")).ToHaveCountAsync(0);
        await Expect(Page.Locator("form[data-form]")).ToHaveCountAsync(0);

        // What the dashboard would send for it, the server refuses for this key.
        using var read = Fixture.Client("aggregation", AppHostFixture.ReadKey);
        var silence = await read.PostAsJsonAsync("/api/alerts/silences",
            new { matchers = new { alertname = id }, endsAt = DateTimeOffset.UtcNow.AddHours(1), comment = "not allowed" });
        Assert.Equal(HttpStatusCode.Forbidden, silence.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await read.DeleteAsync($"/api/alerts/rules/{id}")).StatusCode);
        Assert.Empty(Browser.ConsoleErrors);

        await DeleteRuleAsync(id);
    }
}
