using System.Net;
using System.Net.Sockets;
using ContentMax.ServiceDefaults.Analytics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ContentMax.IntegrationTests;

// The PostHog client is a library, so these run it in-process, wired exactly
// as a service wires it (AddProductAnalytics), against a FakePostHogServer of
// their own that speaks PostHog's wire format.
public sealed class ProductAnalyticsTests : IAsyncLifetime
{
    private const string ApiKey = "phc_in_process_test";
    private FakePostHogServer _posthog = null!;

    public async Task InitializeAsync() => _posthog = await FakePostHogServer.StartAsync();

    public async Task DisposeAsync() => await _posthog.DisposeAsync();

    [Fact]
    public async Task Events_ArriveBatched_WithApiKeyDistinctIdUuidAndSuperProperties()
    {
        using var host = await StartAsync(("PostHog:FlushAt", "5"), ("PostHog:FlushInterval", "00:01:00"));
        var analytics = host.Services.GetRequiredService<ProductAnalytics>();

        analytics.Identify("user-1", new Dictionary<string, object?> { ["plan"] = "pro" });
        analytics.PageView("user-1", "Dashboard");
        analytics.ScoreOpportunity("user-1", "node-7", 0.82, new { traffic = 0.4 });
        analytics.Search("user-1", "shoes", 12);
        analytics.TrackRevenue("user-1", 49.99m);

        await _posthog.WaitForAsync(p => p.AcceptedEvents.Count == 5);
        var batch = Assert.Single(_posthog.Requests, r => r.Path == "/batch/");
        Assert.Equal(ApiKey, (string?)batch.Json["api_key"]);
        Assert.Equal(["$identify", "$pageview", "opportunity_scored", "search", "revenue"], batch.Events.Select(e => (string?)e["event"]));
        foreach (var sent in batch.Events)
        {
            Assert.Equal("user-1", (string?)sent["distinct_id"]);
            Assert.True(Guid.TryParse((string?)sent["uuid"], out _));
            Assert.StartsWith("0.1.0", (string?)sent["properties"]!["app_version"]);
            Assert.Equal("production", (string?)sent["properties"]!["environment"]);
        }

        Assert.Equal("pro", (string?)batch.Events.First()["properties"]!["$set"]!["plan"]);
    }

    [Fact]
    public async Task ServerErrors_AreRetried_AndEveryUuidIsDeliveredExactlyOnce()
    {
        _posthog.FailNextBatches(2);
        using var host = await StartAsync(("PostHog:FlushAt", "10"), ("PostHog:FlushInterval", "00:00:00.200"), ("PostHog:RetryBaseDelay", "00:00:00.100"));
        var analytics = host.Services.GetRequiredService<ProductAnalytics>();
        var metrics = host.Services.GetRequiredService<PostHogMetrics>();

        for (var i = 0; i < 25; i++)
        {
            Assert.True(analytics.Track($"user-{i % 3}", "node_opened", new Dictionary<string, object?> { ["i"] = i }));
        }

        await _posthog.WaitForAsync(_ => metrics.Sent == 25);
        var failed = _posthog.Requests.Where(r => r.Status == 500).ToList();
        Assert.Equal(2, failed.Count);
        var delivered = _posthog.AcceptedEvents.Select(e => (string?)e["uuid"]).ToList();
        Assert.Equal(25, delivered.Count);
        Assert.Equal(25, delivered.Distinct().Count());
        // What failed was sent again with the same uuids, so PostHog can dedupe.
        Assert.All(failed.SelectMany(r => r.Events), e => Assert.Contains((string?)e["uuid"], delivered));
        Assert.True(metrics.Retried >= 10);
        Assert.Equal(0, metrics.Dropped);
    }

    [Fact]
    public async Task QueueOverflow_IsCountedNotThrown()
    {
        // PostHog fails the first batch, so the batcher sits in its backoff while the queue fills.
        _posthog.FailNextBatches(1);
        using var host = await StartAsync(("PostHog:MaxQueueSize", "10"), ("PostHog:FlushAt", "1"), ("PostHog:RetryBaseDelay", "00:00:01"));
        var analytics = host.Services.GetRequiredService<ProductAnalytics>();
        var metrics = host.Services.GetRequiredService<PostHogMetrics>();
        analytics.Track("user-1", "first");
        await _posthog.WaitForAsync(p => p.Requests.Any(r => r.Status == 500));

        var accepted = Enumerable.Range(0, 25).Count(i => analytics.FeatureUsed("user-1", $"feature-{i}"));

        Assert.Equal(10, accepted);
        Assert.Equal(15, metrics.Dropped);
        await host.StopAsync(); // Drains: the retried batch and the ten queued events.
        Assert.Equal(11, _posthog.AcceptedEvents.Count);
        Assert.Equal(11, metrics.Sent);
    }

    [Fact]
    public async Task Flags_FromPostHog_AreParsed()
    {
        using var host = await StartAsync();
        var analytics = host.Services.GetRequiredService<ProductAnalytics>();

        var flags = await analytics.GetFeatureFlags("user-1");

        Assert.Equal(new FeatureFlagValue(true), flags["new-dashboard"]);
        Assert.Equal(new FeatureFlagValue(true, "b"), flags["pricing"]);
        Assert.Equal(new FeatureFlagValue(false), flags["advanced-scoring"]);
        var request = Assert.Single(_posthog.Requests, r => r.Path.StartsWith("/flags", StringComparison.Ordinal));
        Assert.Equal("/flags?v=2", request.Path);
        Assert.Equal("user-1", (string?)request.Json["distinct_id"]);
    }

    [Fact]
    public async Task Flags_NothingListening_BootstrapValuesApply()
    {
        using var host = await StartAsync(("PostHog:Host", $"http://127.0.0.1:{UnusedPort()}"));
        var analytics = host.Services.GetRequiredService<ProductAnalytics>();

        Assert.False(await analytics.IsFeatureEnabled("user-1", "new-dashboard"));
        Assert.False(await analytics.IsFeatureEnabled("user-1", "advanced-scoring"));
        var flags = await analytics.GetFeatureFlags("user-1");
        Assert.Equal(["advanced-scoring", "new-dashboard"], flags.Keys.Order());
    }

    private async Task<IHost> StartAsync(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PostHog:ProjectApiKey"] = ApiKey,
            ["PostHog:Host"] = _posthog.BaseUrl,
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddProductAnalytics();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
