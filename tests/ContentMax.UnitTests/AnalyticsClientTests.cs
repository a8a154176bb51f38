using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ContentMax.ServiceDefaults.Analytics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ContentMax.UnitTests;

// ProductAnalytics: the seed's event and property names, super properties,
// identity, and feature flags.
public class AnalyticsClientTests
{
    public static TheoryData<string, Func<ProductAnalytics, bool>, string, string[]> TypedEvents => new()
    {
        { "PageView", a => a.PageView("u", "Dashboard", new Dictionary<string, object?> { ["tab"] = "errors" }), "$pageview", ["page_name", "tab"] },
        { "Track", a => a.Track("u", "node_opened", new Dictionary<string, object?> { ["value"] = 123 }), "node_opened", ["value"] },
        { "ScoreOpportunity", a => a.ScoreOpportunity("u", "node-1", 0.87, new { traffic = 0.5 }), "opportunity_scored", ["node_id", "score", "factors", "timestamp"] },
        { "TrackRevenue", a => a.TrackRevenue("u", 49.99m, "EUR"), "revenue", ["amount", "currency"] },
        { "FeatureUsed", a => a.FeatureUsed("u", "export"), "feature_used", ["feature_name"] },
        { "Search", a => a.Search("u", "shoes", 12, new { category = "men" }), "search", ["query", "results_count", "filters", "timestamp"] },
        { "TrackError", a => a.TrackError("u", "upload failed", new { step = 2 }), "error_occurred", ["error_message", "context", "timestamp"] },
        { "TrackPerformance", a => a.TrackPerformance("u", "LCP", 1800, new { page = "/" }), "performance_metric", ["metric_name", "value", "tags", "timestamp"] },
        { "ExperimentViewed", a => a.ExperimentViewed("u", "pricing-page", "b"), "$experiment_viewed", ["experiment_name", "variant", "timestamp"] },
        { "Identify", a => a.Identify("u", new Dictionary<string, object?> { ["email"] = "ann@example.com" }), "$identify", ["$set"] },
        { "SetUserProperties", a => a.SetUserProperties("u", new Dictionary<string, object?> { ["plan"] = "pro" }), "$set", ["$set"] },
    };

    [Theory]
    [MemberData(nameof(TypedEvents))]
    public async Task TypedMethods_UseTheSeedsEventAndPropertyNames(string method, Func<ProductAnalytics, bool> capture, string eventName, string[] properties)
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler());

        Assert.True(capture(harness.Analytics), method);

        await harness.Handler.WaitForAsync(h => h.Events.Count == 1);
        var sent = harness.Handler.Events[0];
        Assert.Equal(eventName, (string?)sent["event"]);
        Assert.Equal("u", (string?)sent["distinct_id"]);
        var sentProperties = sent["properties"]!.AsObject();
        foreach (var property in properties)
        {
            Assert.True(sentProperties.ContainsKey(property), $"{method}: '{property}' missing from {sentProperties.ToJsonString()}");
        }

        Assert.Equal("0.1.0+abc123", (string?)sentProperties["app_version"]);
        Assert.Equal("test", (string?)sentProperties["environment"]);
    }

    [Fact]
    public async Task PageView_ValuesAndCallerPropertiesWinOverNamedOnes()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler());

        harness.Analytics.PageView("u", "Dashboard", new Dictionary<string, object?> { ["environment"] = "custom", ["tab"] = "errors" });

        await harness.Handler.WaitForAsync(h => h.Events.Count == 1);
        var properties = harness.Handler.Events[0]["properties"]!;
        Assert.Equal("Dashboard", (string?)properties["page_name"]);
        Assert.Equal("errors", (string?)properties["tab"]);
        Assert.Equal("custom", (string?)properties["environment"]);
    }

    [Fact]
    public async Task TrackRevenue_DefaultsToUsd_AndRejectsMalformedCurrencies()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler());

        harness.Analytics.TrackRevenue("u", 10m);
        Assert.Throws<ArgumentException>(() => harness.Analytics.TrackRevenue("u", 10m, "usd"));
        Assert.Throws<ArgumentException>(() => harness.Analytics.TrackRevenue("u", 10m, "EURO"));

        await harness.Handler.WaitForAsync(h => h.Events.Count == 1);
        Assert.Equal("USD", (string?)harness.Handler.Events[0]["properties"]!["currency"]);
        Assert.Equal(10m, harness.Handler.Events[0]["properties"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Identify_SendsSetAndTheAnonymousId()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler());

        harness.Analytics.Identify("user-7", new Dictionary<string, object?> { ["plan"] = "pro" }, anonymousId: "anon-3");

        await harness.Handler.WaitForAsync(h => h.Events.Count == 1);
        var properties = harness.Handler.Events[0]["properties"]!;
        Assert.Equal("pro", (string?)properties["$set"]!["plan"]);
        Assert.Equal("anon-3", (string?)properties["$anon_distinct_id"]);
    }

    [Fact]
    public async Task WithoutApiKey_NothingIsSent_AndFlagsComeFromBootstrap()
    {
        var handler = new RecordingHandler();
        await using var harness = new AnalyticsHarness(handler, o => o.ProjectApiKey = null);

        Assert.False(harness.Analytics.Enabled);
        Assert.False(harness.Analytics.Track("u", "anything"));
        Assert.False(await harness.Analytics.IsFeatureEnabled("u", "new-dashboard"));
        Assert.Equal(new FeatureFlagValue(false), (await harness.Analytics.GetFeatureFlags("u"))["advanced-scoring"]);

        await Task.Delay(300);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task Flags_V2Response_IsParsedMergedWithBootstrapAndCached()
    {
        var handler = new RecordingHandler((_, request) => Task.FromResult(request.RequestUri!.AbsolutePath == "/flags"
            ? Json("""{"flags":{"new-dashboard":{"key":"new-dashboard","enabled":true,"variant":null},"pricing":{"enabled":true,"variant":"b"},"off":{"enabled":false}}}""")
            : new HttpResponseMessage(HttpStatusCode.OK)));
        await using var harness = new AnalyticsHarness(handler);

        var flags = await harness.Analytics.GetFeatureFlags("user-1");
        Assert.True(await harness.Analytics.IsFeatureEnabled("user-1", "new-dashboard"));

        Assert.Equal(new FeatureFlagValue(true), flags["new-dashboard"]);
        Assert.Equal(new FeatureFlagValue(true, "b"), flags["pricing"]);
        Assert.Equal(new FeatureFlagValue(false), flags["off"]);
        Assert.Equal(new FeatureFlagValue(false), flags["advanced-scoring"]); // Bootstrap fills in what PostHog did not send.
        var flagRequests = handler.Requests.Where(r => r.Uri.AbsolutePath == "/flags").ToList();
        var flagRequest = Assert.Single(flagRequests); // The second call was answered from the cache.
        Assert.Equal("v=2", flagRequest.Uri.Query.TrimStart('?'));
        var body = JsonNode.Parse(flagRequest.Body)!;
        Assert.Equal("phc_test", (string?)body["api_key"]);
        Assert.Equal("user-1", (string?)body["distinct_id"]);

        // The exposure is reported once, as posthog-js does.
        await handler.WaitForAsync(h => h.Events.Any(e => (string?)e["event"] == "$feature_flag_called"));
        Assert.Equal("new-dashboard", (string?)handler.Events.Single(e => (string?)e["event"] == "$feature_flag_called")["properties"]!["$feature_flag"]);
    }

    [Theory]
    [InlineData("""{"featureFlags":{"new-dashboard":true,"pricing":"control","off":false}}""")]
    [InlineData("""{"flags":{"new-dashboard":{"enabled":true},"pricing":{"enabled":true,"variant":"control"},"off":{"enabled":false,"variant":null}}}""")]
    public void ParseResponse_AcceptsTheV2AndTheOlderShape(string response)
    {
        var flags = PostHogFeatureFlags.ParseResponse(JsonNode.Parse(response))!;

        Assert.Equal(new FeatureFlagValue(true), flags["new-dashboard"]);
        Assert.Equal(new FeatureFlagValue(true, "control"), flags["pricing"]);
        Assert.Equal(new FeatureFlagValue(false), flags["off"]);
    }

    [Fact]
    public void ParseResponse_UnknownShape_IsNull() =>
        Assert.Null(PostHogFeatureFlags.ParseResponse(JsonNode.Parse("""{"error":"nope"}""")));

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "{}")]
    [InlineData(HttpStatusCode.OK, "not json")]
    [InlineData(HttpStatusCode.OK, """{"unexpected":true}""")]
    public async Task Flags_PostHogFailing_BootstrapValuesApply(HttpStatusCode status, string body)
    {
        var handler = new RecordingHandler((_, _) => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body) }));
        await using var harness = new AnalyticsHarness(handler, o => o.BootstrapFlags["advanced-scoring"] = "true");

        var flags = await harness.Analytics.GetFeatureFlags("u");

        Assert.Equal(new FeatureFlagValue(false), flags["new-dashboard"]);
        Assert.Equal(new FeatureFlagValue(true), flags["advanced-scoring"]);
    }

    [Fact]
    public async Task Flags_PostHogTooSlow_BootstrapValuesApplyWithinTheTimeout()
    {
        var handler = new RecordingHandler(async (_, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            return Json("""{"flags":{"new-dashboard":{"enabled":true}}}""");
        });
        await using var harness = new AnalyticsHarness(handler, o => o.FlagsTimeout = TimeSpan.FromMilliseconds(200));

        var started = DateTime.UtcNow;
        Assert.False(await harness.Analytics.IsFeatureEnabled("u", "new-dashboard"));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Options_BoundFromConfiguration_KeepDefaultBootstrapFlagsAndAddConfiguredOnes()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PostHog:ProjectApiKey"] = "phc_x",
            ["PostHog:Host"] = "http://127.0.0.1:9",
            ["PostHog:FlushInterval"] = "00:00:02",
            ["PostHog:BootstrapFlags:advanced-scoring"] = "true",
            ["PostHog:BootstrapFlags:pricing"] = "control",
        });
        builder.AddProductAnalytics();
        using var services = builder.Services.BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<PostHogOptions>>().Value;
        var flags = services.GetRequiredService<PostHogFeatureFlags>().Bootstrap;

        Assert.Equal(TimeSpan.FromSeconds(2), options.FlushInterval);
        Assert.Equal(new FeatureFlagValue(false), flags["new-dashboard"]);
        Assert.Equal(new FeatureFlagValue(true), flags["advanced-scoring"]);
        Assert.Equal(new FeatureFlagValue(true, "control"), flags["pricing"]);
        Assert.True(services.GetRequiredService<ProductAnalytics>().Enabled);
    }

    [Fact]
    public void Options_InvalidHost_FailsValidationWithTheSettingName()
    {
        var result = new PostHogOptionsValidator().Validate(null, new PostHogOptions { Host = "posthog.example.com", FlushAt = 0 });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("PostHog:Host"));
        Assert.Contains(result.Failures!, f => f.Contains("PostHog:FlushAt"));
    }

    private static HttpResponseMessage Json(string body) =>
        new(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
}
