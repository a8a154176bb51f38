using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static Microsoft.Playwright.Assertions;

namespace ContentMax.IntegrationTests;

// The browser snippet (clients/browser) end to end: ingestion serves it, a page on
// another origin embeds it with the one-line tag, real Chromium runs it, and the
// points it sends are read back from aggregation. Also the dashboard, which
// reports its own web vitals with the same snippet.
[Collection(AppHostCollection.Name)]
public class BrowserSnippetTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    // The tests' own site, another origin than ingestion; AppHostFixture lists it in
    // Ingestion:AllowedOrigins (it is started before the AppHost, on a free port).
    public static string SiteOrigin => SnippetTestSite.Shared.Origin;

    // Other tests assert exact web-vital aggregates on the dashboard's overview, so in
    // test runs the dashboard's own pages are (almost) never in the vitals sample;
    // the dashboard test below draws its pages into it (SampleDashboardPagesAsync).
    public const string DashboardSampleRate = "0.000001";

    private static readonly string[] Vitals = ["LCP", "FCP", "TTFB", "INP", "CLS"];
    private static readonly string[] Ratings = ["good", "needs-improvement", "poor"];

    private readonly string _ingestion = fixture.App.GetEndpoint("ingestion", "http").ToString().TrimEnd('/');
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task EmbeddedSnippet_ReportsWebVitalsErrorsAndTrackedMetrics_WhenThePageIsLeft()
    {
        var service = MetricsApi.UniqueName("shop-");
        var page = SnippetTestSite.Shared.AddPage(ShopPage(service));

        await Page.GotoAsync($"{SiteOrigin}/shop/orders/12345?page={page}&token=secret-token#summary");
        await Page.WaitForFunctionAsync("() => window.contentmax && window.contentmax.loaded === true");
        await Page.ClickAsync("#pay");      // a slow handler: an interaction for INP
        await Page.ClickAsync("#throw");    // an uncaught SnippetTestError
        await Page.ClickAsync("#reject");   // an unhandled rejection of a string
        Assert.True(await Page.EvaluateAsync<bool>("() => contentmax.track('snippet_direct', 7.5, { step: 'pay' })"));
        Assert.False(await Page.EvaluateAsync<bool>("() => contentmax.track('9 is not a name', 1)"));
        Assert.False(await Page.EvaluateAsync<bool>("() => contentmax.track('snippet_direct', NaN)"));
        Assert.Equal(0, await Page.EvaluateAsync<int>("() => contentmax.dropped"));

        // Leaving the page hides it: web-vitals reports LCP, CLS and INP, and the snippet flushes.
        await Page.GotoAsync(SiteOrigin + "/away");

        var pageUrl = SiteOrigin + "/shop/orders/12345";
        foreach (var vital in Vitals)
        {
            var row = Assert.Single(await WaitForRowsAsync(vital, service, 1));
            var tags = row["tags"]!;
            Assert.Equal("/shop/orders/:id", (string?)tags["route"]);
            Assert.Equal("navigate", (string?)tags["navigationType"]);
            Assert.Contains((string?)tags["rating"], Ratings);
            Assert.Equal(pageUrl, (string?)row["url"]);
            Assert.Contains("Chrome/", (string?)row["userAgent"]);
            Assert.True((double)row["value"]! >= 0, $"{vital} is {row["value"]}");
        }

        // The handler ran for 120 ms, and INP is that interaction.
        Assert.True((double)(await WaitForRowsAsync("INP", service, 1))[0]["value"]! >= 100);

        var errors = await WaitForRowsAsync("errors", service, 2);
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e =>
        {
            Assert.Equal(1.0, (double)e["value"]!);
            Assert.Equal("error", (string?)e["tags"]!["level"]);
            Assert.Equal("/shop/orders/:id", (string?)e["tags"]!["route"]);
            // Messages carry user data and are unbounded: never a tag.
            var tags = e["tags"]!.ToJsonString();
            Assert.DoesNotContain("4111", tags);
            Assert.DoesNotContain("secret", tags);
        });
        Assert.Contains(errors, e => (string?)e["tags"]!["type"] == "SnippetTestError" && (string?)e["tags"]!["source"] == "error");
        Assert.Contains(errors, e => (string?)e["tags"]!["type"] == "UnhandledRejection" && (string?)e["tags"]!["source"] == "rejection");

        // A call queued in the stub before the script loaded, and one made after.
        var queued = Assert.Single(await WaitForRowsAsync("snippet_queued", service, 1));
        Assert.Equal(42.0, (double)queued["value"]!);
        Assert.Equal("before-load", (string?)queued["tags"]!["phase"]);
        var direct = Assert.Single(await WaitForRowsAsync("snippet_direct", service, 1));
        Assert.Equal(7.5, (double)direct["value"]!);
        Assert.Equal("pay", (string?)direct["tags"]!["step"]);
        Assert.Equal("/shop/orders/:id", (string?)direct["tags"]!["route"]);

        // The breakdowns the dashboard draws: per service, per route.
        Assert.Equal(1, CountOf(await BreakdownAsync("LCP", "service"), service));
        Assert.True(CountOf(await BreakdownAsync("LCP", "route"), "/shop/orders/:id") >= 1);
        Assert.Equal(2, CountOf(await BreakdownAsync("errors", "service"), service));
    }

    [Fact]
    public async Task RefusedBeacons_FallBackToKeepaliveFetch_WhichIngestionAnswersWithCors()
    {
        var service = MetricsApi.UniqueName("fallback-");
        var page = SnippetTestSite.Shared.AddPage(ShopPage(service));
        // As when the browser's beacon quota is used up.
        await Page.AddInitScriptAsync("navigator.sendBeacon = () => false;");

        await Page.GotoAsync($"{SiteOrigin}/shop/orders/77?page={page}");
        await Page.WaitForFunctionAsync("() => window.contentmax && window.contentmax.loaded === true");
        await Page.EvaluateAsync("() => { contentmax.track('snippet_fallback', 3); contentmax.flush(); }");

        var row = Assert.Single(await WaitForRowsAsync("snippet_fallback", service, 1));
        Assert.Equal("/shop/orders/:id", (string?)row["tags"]!["route"]);
        // The answer was readable (CORS allowed this origin), so nothing was retried or dropped.
        await Page.WaitForTimeoutAsync(500);
        Assert.Equal(0, await Page.EvaluateAsync<int>("() => contentmax.dropped + contentmax.queued"));
        Assert.DoesNotContain(Browser.ConsoleErrors, m => m.Contains("CORS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SdkScript_IsCachedByContentHash_AndEmbeddableFromAnyOrigin()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_ingestion) };

        using var plain = await client.GetAsync("/sdk/contentmax.js");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("text/javascript; charset=utf-8", plain.Content.Headers.ContentType?.ToString());
        Assert.Equal("public, max-age=300", plain.Headers.CacheControl?.ToString());
        Assert.Equal("*", Header(plain, "Access-Control-Allow-Origin"));
        Assert.Equal("cross-origin", Header(plain, "Cross-Origin-Resource-Policy"));
        var etag = plain.Headers.ETag ?? throw new Xunit.Sdk.XunitException("No ETag.");
        var script = await plain.Content.ReadAsByteArrayAsync();
        Assert.StartsWith("/*! ContentMax browser SDK", System.Text.Encoding.UTF8.GetString(script));

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/sdk/contentmax.js");
        revalidate.Headers.IfNoneMatch.Add(etag);
        using var notModified = await client.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        var manifest = (await client.GetFromJsonAsync<JsonObject>("/sdk"))!;
        var version = (string)manifest["version"]!;
        Assert.Equal($"\"{version}\"", etag.Tag);
        Assert.Equal($"{_ingestion}/sdk/contentmax.js?v={version}", (string?)manifest["url"]);
        Assert.Equal("sha384-" + Convert.ToBase64String(SHA384.HashData(script)), (string?)manifest["integrity"]);

        using var versioned = await client.GetAsync((string)manifest["url"]!);
        Assert.Equal(HttpStatusCode.OK, versioned.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", versioned.Headers.CacheControl?.ToString());
        Assert.Equal(script, await versioned.Content.ReadAsByteArrayAsync());

        // An old or unknown version is sent on to the current one.
        using var stale = await client.GetAsync("/sdk/contentmax.js?v=0000000000000000");
        Assert.Equal(HttpStatusCode.Found, stale.StatusCode);
        Assert.Equal($"/sdk/contentmax.js?v={version}", stale.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task IngestCors_AnswersTheAllowedOrigins_ForWhatTheSnippetSends()
    {
        using var client = new HttpClient { BaseAddress = new Uri(_ingestion) };

        // The test site's origin is configured; the dashboard's is added by the
        // AppHost at its configured port (5180), which tests do not use.
        foreach (var origin in new[] { SiteOrigin })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/metrics");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
            using var answer = await client.SendAsync(preflight);
            Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
            Assert.Equal(origin, Header(answer, "Access-Control-Allow-Origin"));
            Assert.Contains("POST", Header(answer, "Access-Control-Allow-Methods"));
        }

        // What the fetch fallback sends: text/plain, the key in the URL, the page's Origin.
        using var post = new HttpRequestMessage(HttpMethod.Post, $"/api/metrics?key={AppHostFixture.IngestKey}")
        {
            Content = new StringContent($$"""[{"metric":"snippet_cors","value":1,"id":"{{Guid.NewGuid()}}"}]""", System.Text.Encoding.UTF8, "text/plain"),
        };
        post.Headers.Add("Origin", SiteOrigin);
        using var accepted = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(SiteOrigin, Header(accepted, "Access-Control-Allow-Origin"));

        using var foreign = new HttpRequestMessage(HttpMethod.Options, "/api/metrics");
        foreign.Headers.Add("Origin", "https://not-allowed.example");
        foreign.Headers.Add("Access-Control-Request-Method", "POST");
        using var refused = await client.SendAsync(foreign);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task DashboardPages_ReportTheirOwnWebVitals_TaggedServiceDashboard()
    {
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var dashboard = Fixture.Client("dashboard", key: null))
        using (var response = await dashboard.GetAsync("/signin"))
        {
            var csp = Header(response, "Content-Security-Policy").Split("; ");
            // Exactly ingestion's origin, for <script> elements and for connections (its beacons).
            Assert.Contains(csp, d => d.StartsWith("script-src-elem 'self' ", StringComparison.Ordinal) && d.EndsWith(" " + _ingestion, StringComparison.Ordinal));
            Assert.Contains(csp, d => d.StartsWith("connect-src 'self' ", StringComparison.Ordinal) && d.Split(' ').Contains(_ingestion));
        }

        await SampleDashboardPagesAsync();
        await Browser.SignInAsync(BaseUrl);
        await Expect(Page.Locator("[data-card=api]")).ToBeVisibleAsync();
        var tag = Page.Locator("script[data-service=dashboard]");
        Assert.Equal(0.000001, double.Parse(await tag.GetAttributeAsync("data-sample-rate") ?? "", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(_ingestion + "/sdk/contentmax.js", await tag.GetAttributeAsync("src"));
        Assert.Equal("off", await tag.GetAttributeAsync("data-errors"));
        await Page.WaitForFunctionAsync("() => window.contentmax && window.contentmax.loaded === true");
        Assert.True(await Page.EvaluateAsync<bool>("() => contentmax.sampled"));
        // Chromium records an LCP entry only once the frame that painted the
        // largest content is on screen; on a loaded machine that can be after
        // the cards are in the DOM. A user who leaves sooner has no LCP to report.
        await Page.WaitForFunctionAsync("""
            () => {
              if (window.lcpEntries === undefined) {
                window.lcpEntries = 0;
                new PerformanceObserver((list) => { window.lcpEntries += list.getEntries().length; })
                  .observe({ type: 'largest-contentful-paint', buffered: true });
              }
              return window.lcpEntries > 0;
            }
            """);

        // An operator's first key press makes LCP final; the overview's load
        // vitals leave within a second, while the page is still open.
        await Page.Keyboard.PressAsync("Shift");

        var overview = await Eventually.UntilAsync(
            async () => (await RawAsync("FCP", "dashboard"))
                .Concat(await RawAsync("LCP", "dashboard"))
                .Concat(await RawAsync("TTFB", "dashboard"))
                .Where(r => (string?)r["url"] == BaseUrl + "/" && (long)r["timestamp"]! >= since)
                .ToList(),
            rows => rows.Select(r => (string)r["metric"]!).Distinct().Count() == 3,
            TimeSpan.FromSeconds(30),
            rows => $"The overview reported {string.Join(", ", rows.Select(r => (string?)r["metric"]))} instead of FCP, LCP and TTFB.",
            TimeSpan.FromMilliseconds(500));
        Assert.All(overview, r => Assert.Equal("/", (string?)r["tags"]!["route"]));
        Assert.Empty(Browser.CspViolations);
        Assert.Empty(Browser.ConsoleErrors);
    }

    // The snippet draws Math.random() once, while it starts, against data-sample-rate.
    // This browser's draws from that script (and only those) are 0, so its pages are
    // in the sample; Sentry and PostHog on the same page keep their own randomness.
    private Task SampleDashboardPagesAsync() => Page.Context.AddInitScriptAsync("""
        (() => {
          const random = Math.random;
          Math.random = function () {
            const script = document.currentScript;
            return script && script.src.includes('/sdk/contentmax.js') ? 0 : random.call(Math);
          };
        })();
        """);

    // A shop page as a customer would write it: a stub with a call queued before
    // the script loads, the one-line embed, content to paint, and three buttons.
    private string ShopPage(string service) => $$"""
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>Order 12345</title>
          <script>
            window.contentmax = window.contentmax || { q: [] };
            contentmax.q.push(['track', 'snippet_queued', 42, { phase: 'before-load' }]);
          </script>
          <script src="{{_ingestion}}/sdk/contentmax.js" data-key="{{AppHostFixture.IngestKey}}" data-service="{{service}}" async></script>
        </head>
        <body>
          <h1>Order 12345</h1>
          <p style="font-size: 22px; max-width: 40em">Thank you for your order. This paragraph is the largest
          text on the page, so it is the Largest Contentful Paint: its render time is what LCP reports.</p>
          <button id="pay">Pay</button> <button id="throw">Throw</button> <button id="reject">Reject</button>
          <script>
            class SnippetTestError extends Error {
              constructor(message) { super(message); this.name = 'SnippetTestError'; }
            }
            document.getElementById('pay').addEventListener('click', () => {
              const until = performance.now() + 120;
              while (performance.now() < until) { /* a slow handler */ }
              document.body.insertAdjacentHTML('beforeend', '<p>Paid.</p>');
            });
            document.getElementById('throw').addEventListener('click', () => {
              throw new SnippetTestError('card 4111 1111 1111 1111 declined for user@example.com');
            });
            document.getElementById('reject').addEventListener('click', () => {
              Promise.reject('rejected: token=secret-123');
            });
          </script>
        </body>
        </html>
        """;

    // Raw rows of one metric from one service in the last hour, newest first.
    private async Task<List<JsonObject>> RawAsync(string metric, string service)
    {
        var rows = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var page = (await _aggregation.GetFromJsonAsync<JsonObject>(
                $"/api/metrics/raw?metric={metric}&period=1h&limit=1000" + (cursor is null ? "" : "&cursor=" + cursor)))!;
            rows.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()).Where(i => (string?)i["tags"]?["service"] == service));
            cursor = (string?)page["nextCursor"];
        }
        while (cursor is not null);
        return rows;
    }

    private Task<List<JsonObject>> WaitForRowsAsync(string metric, string service, int count) =>
        Eventually.UntilAsync(() => RawAsync(metric, service), rows => rows.Count >= count, TimeSpan.FromSeconds(30),
            rows => $"{metric} from {service}: {rows.Count} row(s) instead of {count}.", TimeSpan.FromMilliseconds(500));

    private async Task<JsonObject> BreakdownAsync(string metric, string tag) =>
        (await _aggregation.GetFromJsonAsync<JsonObject>($"/api/metrics/breakdown?metric={metric}&tag={tag}&period=1h&limit=500"))!["values"]!.AsObject();

    private static long CountOf(JsonObject values, string value) => (long?)values[value]?["count"] ?? 0;

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : throw new Xunit.Sdk.XunitException($"No {name} header.");
}

// A web site of the tests' own on 127.0.0.1: another origin than ingestion, as a
// customer's site is. Started once per test process, when AppHostFixture first
// asks for its origin, so ingestion can be told to allow it.
public sealed class SnippetTestSite
{
    private static readonly Lazy<SnippetTestSite> LazyShared = new(() => Task.Run(StartAsync).GetAwaiter().GetResult());

    private readonly ConcurrentDictionary<string, string> _pages = new();

    public static SnippetTestSite Shared => LazyShared.Value;

    public string Origin { get; private set; } = "";

    // The page is served at /shop/orders/{any id}?page=<the returned name>.
    public string AddPage(string html)
    {
        var name = Guid.NewGuid().ToString("N");
        _pages[name] = html;
        return name;
    }

    private static async Task<SnippetTestSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var site = new SnippetTestSite();
        app.MapGet("/shop/orders/{id}", (string id, string page) =>
            site._pages.TryGetValue(page, out var html) ? Results.Content(html, "text/html; charset=utf-8") : Results.NotFound());
        app.MapGet("/away", () => Results.Content("<!doctype html><title>Elsewhere</title><p>Elsewhere.</p>", "text/html; charset=utf-8"));
        // Browsers ask for it; a 404 would be a console error in the tests that count them.
        app.MapGet("/favicon.ico", () => Results.NoContent());
        await app.StartAsync();
        site.Origin = app.Urls.Single().TrimEnd('/');
        return site;
    }
}
