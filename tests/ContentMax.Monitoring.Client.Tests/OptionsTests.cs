using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client.Tests;

public class OptionsTests
{
    [Fact]
    public async Task AMissingEndpoint_StopsStartup_WithTheSettingNamed()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => ClientHost.StartAsync(ClientHost.Settings(endpoint: null)));
        Assert.Contains("ContentMaxMonitoring:Endpoint is required", e.Message);
    }

    [Theory]
    [InlineData("FlushInterval", "soon", "ContentMaxMonitoring:FlushInterval is 'soon'")]
    [InlineData("FlushInterval", "10ms", "FlushInterval must be from 50ms to 1h")]
    [InlineData("MaxPointsPerRequest", "5000", "MaxPointsPerRequest must be from 1 to 1000")]
    [InlineData("Transport", "carrier-pigeon", "Transport is 'carrier-pigeon'")]
    [InlineData("Transport", "masstransit", "call builder.AddContentMaxMonitoring().UseMassTransit()")]
    [InlineData("Endpoint", "ftp://ingestion", "absolute http(s) URL")]
    [InlineData("Tags:bad", "a\u0001b", "Tags:bad must not contain control characters")]
    public async Task InvalidSettings_StopStartup_WithAClearMessage(string setting, string value, string message)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ClientHost.StartAsync(ClientHost.Settings(new Uri("http://127.0.0.1:9"), (setting, value))));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Durations_AcceptAHumanForm_OrTimeSpansOwn()
    {
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(new Uri("http://127.0.0.1:9"),
            ("FlushInterval", "500ms"), ("RequestTimeout", "00:00:03"), ("RetryMaxDelay", "2m"), ("ShutdownTimeout", "1.5s")));
        var options = client.Host.Services.GetRequiredService<IOptions<ContentMaxMonitoringOptions>>().Value;

        Assert.Equal(TimeSpan.FromMilliseconds(500), options.FlushInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.RetryMaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(1.5), options.ShutdownTimeout);
        Assert.Equal(ClientHost.ServiceName, options.ServiceName);
        Assert.Equal(["/health", "/alive"], options.EffectiveExcludedPaths);
    }

    [Fact]
    public async Task ExcludedPaths_ReplaceTheDefaults()
    {
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(new Uri("http://127.0.0.1:9"), ("ExcludedPaths:0", "/metrics")));
        Assert.Equal(["/metrics"], client.Host.Services.GetRequiredService<IOptions<ContentMaxMonitoringOptions>>().Value.EffectiveExcludedPaths);
    }

    [Fact]
    public async Task Disabled_NeedsNoEndpoint_AndRecordsNothing()
    {
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(endpoint: null, ("Enabled", "false")));
        client.Metrics.Track("ignored", 1);
        client.Metrics.Track("1 invalid too", 1);

        Assert.Equal(0, client.Counters.Dropped);
        Assert.Empty(client.Host.Services.GetServices<IHostedService>());
    }

    // Services that use ServiceDefaults put a standard resilience handler on
    // every client; the client's own replaces it instead of stacking on it.
    [Fact]
    public async Task TheNamedClient_HasOneResilienceHandler_EvenWhenTheDefaultsAddOne()
    {
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(new Uri("http://127.0.0.1:9")),
            (builder, _) => builder.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler()));
        var handler = client.Host.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("ContentMax.Monitoring.Client");

        var names = new List<string>();
        for (var h = handler as DelegatingHandler; h is not null; h = h.InnerHandler as DelegatingHandler) names.Add(h.GetType().Name);
        Assert.Single(names, n => n.Contains("Resilience", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnEndpointWithABasePath_KeepsIt()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        // The fake only serves /api/metrics, so a kept base path shows as a 404 refusal.
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(new Uri(ingestion.BaseUrl, "monitoring")));
        client.Metrics.Track("based", 1);
        await Eventually.TrueAsync(() => client.Counters.Dropped == 1, "one dropped batch counted");

        Assert.Empty(ingestion.Arrivals);
        Assert.Contains(client.Logs.Lines, l => l.Message.Contains("HTTP 404"));
    }
}
