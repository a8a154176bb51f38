using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// The dashboard's browser monitoring in a real headless Chromium: the bundled
// @sentry/browser and posthog-js report to the fixture's local Sentry and
// PostHog, and these tests read what the real SDKs sent.
[Collection(AppHostCollection.Name)]
public partial class BrowserMonitoringTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    // What the dashboard derives from the read key: an opaque id, never the key.
    private static readonly string OperatorId =
        "op-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("contentmax-operator:" + AppHostFixture.ReadKey)))[..16].ToLowerInvariant();

    [Fact]
    public async Task BrowserError_ReachesSentryWithItsReplay_TextMaskedAndBlockedElementsLeftOut()
    {
        await Browser.SignInAsync(BaseUrl, "/diagnostics");
        await Expect(Page.Locator("[data-status-of=sentry]")).ToContainTextAsync("on");
        var typed = "typed-secret-" + Guid.NewGuid().ToString("N")[..8];
        await Page.FillAsync("[data-sample=input]", typed);
        // A call to the dashboard's own /api: its network details are recorded, of its headers only X-Request-Id.
        await Page.EvaluateAsync(
            "() => fetch('/api/replay-probe', { headers: { 'X-Request-Id': 'rid-replay-probe', 'X-Probe-Secret': 'probe-header-secret' } }).then(r => r.status)");

        await Page.ClickAsync("[data-monitoring-test=browser-error]");

        var sentEvent = (await Fixture.Sentry.WaitForItemAsync("event", i => i.Text.Contains("BrowserMonitoringTestError"))).Json;
        Assert.Equal("javascript", (string?)sentEvent["platform"]);
        Assert.Equal("sentry.javascript.browser", (string?)sentEvent["sdk"]!["name"]);
        Assert.Equal(AppHostFixture.SentryEnvironment, (string?)sentEvent["environment"]);
        Assert.StartsWith("contentmax@0.1.0+", (string?)sentEvent["release"]);
        Assert.Equal("dashboard-browser", (string?)sentEvent["tags"]!["service"]);
        Assert.Equal(OperatorId, (string?)sentEvent["user"]!["id"]);
        Assert.EndsWith("/diagnostics", (string?)sentEvent["request"]!["url"]);
        var exception = sentEvent["exception"]!["values"]!.AsArray().Last()!;
        Assert.Equal("BrowserMonitoringTestError", (string?)exception["type"]);

        // The replay of the moments before the error is sent because of it (on-error
        // sampling); the SDK tags the error with the replay's id.
        var replayId = (string?)sentEvent["tags"]!["replayId"] ?? (string?)sentEvent["contexts"]?["replay"]?["replay_id"];
        Assert.False(string.IsNullOrEmpty(replayId));
        var replayEvent = (await Fixture.Sentry.WaitForItemAsync("replay_event", i => (string?)i.Json["replay_id"] == replayId)).Json;
        Assert.Contains("/diagnostics", replayEvent["urls"]!.ToJsonString());
        Assert.Equal("buffer", (string?)replayEvent["replay_type"]);
        var recordings = await Eventually.UntilAsync(
            () => Fixture.Sentry.Envelopes
                .Where(e => (string?)e.Header["event_id"] == replayId || e.Items.Any(i => i.Type == "replay_event" && (string?)i.Json["replay_id"] == replayId))
                .SelectMany(e => e.Items.Where(i => i.Type == "replay_recording"))
                .ToList(),
            r => r.Count > 0, TimeSpan.FromSeconds(30), _ => "No replay_recording arrived with the replay.");

        // The SDK's compression worker ran: the page's CSP lets it start from a blob: URL.
        Assert.All(recordings, r => Assert.True(r.RecordingCompressed, "the recording was sent uncompressed"));
        var recording = string.Concat(recordings.Select(r => r.RecordingText));
        Assert.Contains("\"type\":2", recording); // A full DOM snapshot.

        // All text and inputs are masked: the page's own words and what was typed never leave.
        Assert.DoesNotContain("monitoring reaches Sentry", recording);
        Assert.DoesNotContain("Replay privacy", recording);
        Assert.DoesNotContain(typed, recording);
        Assert.Matches(MaskedText(), recording);
        // Blocked elements are recorded as empty boxes: their size, never their content.
        Assert.Matches(BlockedCard(), recording);
        Assert.DoesNotContain("card-number", recording);
        Assert.DoesNotContain("4111 1111", recording);
        Assert.DoesNotContain("ssn-number", recording);
        Assert.DoesNotContain("078-05-1120", recording);
        Assert.Contains("\"x-request-id\":\"rid-replay-probe\"", recording);
        Assert.DoesNotContain("probe-header-secret", recording);
        Assert.DoesNotContain("\"content-type\":", recording);

        // PostHog hears of it too, linked to the Sentry event.
        await Fixture.PostHog.WaitForAsync(p => p.AcceptedEvents.Any(e =>
            (string?)e["event"] == "error_occurred" && (string?)e["properties"]!["context"]?["sentry_event_id"] == (string?)sentEvent["event_id"]));
    }

    [Fact]
    public async Task DashboardComponentError_IsReportedToSentryAndPostHog_AndThePageKeepsWorking()
    {
        await Browser.SignInAsync(BaseUrl, "/diagnostics");

        await Page.ClickAsync("[data-monitoring-test=dashboard-error]");

        await Expect(Page.Locator("[data-error-boundary=diagnostics]")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync("monitoring-check");
        var sentEvent = (await Fixture.Sentry.WaitForItemAsync("event", i => i.Text.Contains("DashboardTestException"))).Json;
        Assert.Equal("dashboard", (string?)sentEvent["tags"]!["service"]);
        Assert.Equal("diagnostics", (string?)sentEvent["tags"]!["component"]);
        await Fixture.PostHog.WaitForAsync(p => p.AcceptedEvents.Any(e =>
            (string?)e["event"] == "error_occurred"
            && PostHogRequest.DistinctId(e) == OperatorId
            && (string?)e["properties"]!["context"]?["area"] == "diagnostics"
            && (string?)e["properties"]!["context"]?["source"] == "dashboard"));

        // The circuit survived: the page still answers.
        await Page.ClickAsync("header nav a[href='/']");
        await Page.ClickAsync("[data-tab=usage]");
        await Expect(Page.Locator("[data-tab=usage]")).ToHaveAttributeAsync("aria-selected", "true");
    }

    [Fact]
    public async Task PageViewsAndFeatureUse_ReachPostHog_UnderAnOpaqueOperatorId_WithSuperProperties()
    {
        await Browser.SignInAsync(BaseUrl);
        await Expect(Page.Locator("[data-tab=errors]")).ToBeVisibleAsync();

        await Page.ClickAsync("[data-tab=errors]");
        await Expect(Page.Locator("[data-tab=errors]")).ToHaveAttributeAsync("aria-selected", "true");
        await Page.ClickAsync("[data-period='7d']");
        await Expect(Page.Locator("[data-period='7d']")).ToHaveAttributeAsync("aria-pressed", "true");

        await Fixture.PostHog.WaitForAsync(p =>
            p.AcceptedEvents.Any(e => IsOperatorEvent(e, "$pageview") && ((string?)e["properties"]!["$current_url"])?.EndsWith('/') == true)
            && p.AcceptedEvents.Any(e => IsFeatureUse(e, "overview_tab", "tab", "errors"))
            && p.AcceptedEvents.Any(e => IsFeatureUse(e, "overview_period", "period", "7d")),
            TimeSpan.FromSeconds(30));

        var events = Fixture.PostHog.AcceptedEvents;
        // The browser's page view: posthog-js, with the super properties registered before it.
        var pageView = events.First(e => IsOperatorEvent(e, "$pageview"));
        Assert.Equal(AppHostFixture.PostHogKey, (string?)pageView["properties"]!["token"]);
        Assert.StartsWith("0.1.0", (string?)pageView["properties"]!["app_version"]);
        Assert.Equal(AppHostFixture.SentryEnvironment, (string?)pageView["properties"]!["environment"]);
        Assert.Equal("web", (string?)pageView["properties"]!["$lib"]);
        // The anonymous visitor of the sign-in page became the operator.
        Assert.Contains(events, e => IsOperatorEvent(e, "$identify") && e["properties"]!["$anon_distinct_id"] is not null);
        // The server's feature_used: same operator, same super properties.
        var featureUse = events.First(e => IsFeatureUse(e, "overview_tab", "tab", "errors"));
        Assert.Equal("performance", (string?)featureUse["properties"]!["previous_tab"]);
        Assert.StartsWith("0.1.0", (string?)featureUse["properties"]!["app_version"]);
        Assert.Equal(AppHostFixture.SentryEnvironment, (string?)featureUse["properties"]!["environment"]);

        // The distinct id is opaque: not the key, not an email, and the key never left at all.
        Assert.Matches("^op-[0-9a-f]{16}$", OperatorId);
        Assert.All(events, e => Assert.DoesNotContain("@", PostHogRequest.DistinctId(e) ?? ""));
        Assert.All(Fixture.PostHog.Requests, r => Assert.DoesNotContain(AppHostFixture.ReadKey, r.Body + r.Query));
        Assert.All(Fixture.Sentry.Envelopes, e => Assert.DoesNotContain(AppHostFixture.ReadKey, e.Text));
        Assert.Empty(Browser.ConsoleErrors);
    }

    [Fact]
    public async Task PostHogRecording_MasksInputs_AndKeepsPrivateAndBlockedElementsOut()
    {
        await Browser.SignInAsync(BaseUrl, "/diagnostics");
        await Expect(Page.Locator("[data-status-of=posthog]")).ToContainTextAsync("session recording on");
        var typed = "typed-secret-" + Guid.NewGuid().ToString("N")[..8];

        await Page.FillAsync("[data-sample=input]", typed);

        // Recorded as an rrweb input event (source 5) with the value masked.
        var recording = await Eventually.UntilAsync(
            () => string.Concat(Fixture.PostHog.AcceptedEvents
                .Where(e => IsOperatorEvent(e, "$snapshot"))
                .Select(PostHogRequest.SnapshotText)),
            text => text.Contains("\"source\":5") && text.Contains("Replay privacy"),
            TimeSpan.FromSeconds(30), text => $"No recorded input yet ({text.Length} characters of snapshots).");
        Assert.Matches(MaskedInput(), recording);
        Assert.DoesNotContain(typed, recording);
        Assert.DoesNotContain("Masked: an element with class", recording);
        Assert.DoesNotContain("Masked: an element with the attribute", recording);
        Assert.DoesNotContain("4111 1111", recording);
        Assert.DoesNotContain("078-05-1120", recording);
        Assert.All(Fixture.PostHog.Requests, r => Assert.DoesNotContain(typed, r.Body));
    }

    [Fact]
    public async Task SecurityHeaders_AreSent_AndNoPageBreaksTheContentSecurityPolicy()
    {
        using var client = Fixture.Client("dashboard", key: null);
        using var response = await client.GetAsync("/signin");
        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("script-src 'self' 'report-sample';", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("worker-src 'self' blob:", csp);
        Assert.Contains($"report-uri {Fixture.Sentry.BaseUrl}/api/{FakeSentryServer.ProjectId}/security/?sentry_key={FakeSentryServer.PublicKey}", csp);
        Assert.Contains("object-src 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        var connect = csp.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("connect-src ", StringComparison.Ordinal));
        Assert.Contains(Fixture.Sentry.BaseUrl, connect);
        Assert.Contains(Fixture.PostHog.BaseUrl, connect);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
        Assert.Contains("camera=()", Header(response, "Permissions-Policy"));

        // Every page, with both SDKs running, in a real browser: no violation, no console error.
        await Browser.SignInAsync(BaseUrl);
        foreach (var tab in new[] { "errors", "usage", "business", "health", "performance" })
        {
            await Page.ClickAsync($"[data-tab={tab}]");
            await Expect(Page.Locator($"[data-tab={tab}]")).ToHaveAttributeAsync("aria-selected", "true");
        }

        await Page.ClickAsync("header nav a[href='/diagnostics']");
        await Expect(Page.Locator("[data-status-of=posthog]")).ToContainTextAsync("on");
        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-status-of=sentry]")).ToContainTextAsync("on");
        Assert.True(await Page.EvaluateAsync<bool>("() => !!window.__SENTRY__"), "the Sentry SDK did not start");
        Assert.Empty(Browser.CspViolations);
        Assert.Empty(Browser.ConsoleErrors);

        // The session cookie is out of reach of scripts and never sent cross-site.
        var session = (await Page.Context.CookiesAsync()).Single(c => c.Name == "contentmax.session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
    }

    [Fact]
    public async Task CspViolation_IsBlocked_AndReportedToSentry()
    {
        await Browser.SignInAsync(BaseUrl);
        var marker = "injected" + Guid.NewGuid().ToString("N")[..8];

        // What an injected inline script would do; the policy must stop it.
        await Page.EvaluateAsync(
            "marker => { const s = document.createElement('script'); s.textContent = `window.${marker} = true`; document.head.appendChild(s); }", marker);

        var report = await Eventually.UntilAsync(
            () => Fixture.Sentry.SecurityReports.FirstOrDefault(r => r.ToJsonString().Contains(marker)),
            r => r is not null, TimeSpan.FromSeconds(30), _ => $"No CSP report arrived; {Fixture.Sentry.SecurityReports.Count} report(s) in all.");
        Assert.False(await Page.EvaluateAsync<bool>($"() => window.{marker} === true"), "the inline script ran");
        var violation = report!["csp-report"]!;
        Assert.StartsWith("script-src", (string?)violation["effective-directive"] ?? (string?)violation["violated-directive"]);
        Assert.StartsWith(BaseUrl, (string?)violation["document-uri"]);
        Assert.Contains($"sentry_environment={AppHostFixture.SentryEnvironment}", (string?)report["query"]);
        Assert.Contains(Browser.CspViolations, m => m.Contains("script-src", StringComparison.Ordinal));
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"No {name} header.");

    private static bool IsOperatorEvent(JsonObject sent, string name) =>
        (string?)sent["event"] == name && PostHogRequest.DistinctId(sent) == OperatorId;

    private static bool IsFeatureUse(JsonObject sent, string feature, string property, string value) =>
        IsOperatorEvent(sent, "feature_used")
        && (string?)sent["properties"]!["feature_name"] == feature
        && (string?)sent["properties"]![property] == value;

    // rrweb replaces each masked character with '*'.
    [GeneratedRegex(@"\*{8,}")]
    private static partial Regex MaskedText();

    // An rrweb input event whose text is all asterisks.
    [GeneratedRegex("\"text\":\"\\*{8,}\"")]
    private static partial Regex MaskedInput();

    // A blocked element keeps its class and size (rr_width, rr_height) and loses everything inside.
    [GeneratedRegex("\"class\":\"credit-card\",\"rr_width\":\"[0-9.]+px\"")]
    private static partial Regex BlockedCard();
}
