using ContentMax.Monitoring.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A small ASP.NET Core service of the tests' own, on 127.0.0.1:0, that uses
// ContentMax.Monitoring.Client the way a real service would: configuration,
// AddContentMaxMonitoring, UseContentMaxMonitoring, sending to the AppHost's
// ingestion. Its routes sit under a prefix of its own, and its points carry
// a service name of its own, so each test reads back only its data.
public sealed class MonitoredApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MonitoredApp(WebApplication app, string prefix, string service)
    {
        _app = app;
        Prefix = prefix;
        Service = service;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public string Prefix { get; }

    public string Service { get; }

    public HttpClient Http { get; }

    public string ItemsRoute => $"/{Prefix}/items/{{id}}";

    public string LinesRoute => $"/{Prefix}/orders/{{orderId}}/lines/{{line}}";

    public string BoomRoute => $"/{Prefix}/boom";

    public ClientMetrics Counters => _app.Services.GetRequiredService<ClientMetrics>();

    public static async Task<MonitoredApp> StartAsync(AppHostFixture fixture, params (string Key, string Value)[] settings)
    {
        using var ingestion = fixture.Client("ingestion", key: null);
        var prefix = "mc" + Guid.NewGuid().ToString("N")[..8];
        var service = "monitored-" + prefix;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = service });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var configuration = new Dictionary<string, string?>
        {
            ["ContentMaxMonitoring:Endpoint"] = ingestion.BaseAddress!.ToString(),
            ["ContentMaxMonitoring:IngestKey"] = AppHostFixture.IngestKey,
            ["ContentMaxMonitoring:FlushInterval"] = "500ms",
            ["ContentMaxMonitoring:RetryMaxDelay"] = "1s",
            ["ContentMaxMonitoring:RequestTimeout"] = "5s",
            ["ContentMaxMonitoring:ShutdownTimeout"] = "30s",
            ["ContentMaxMonitoring:Tags:test"] = "monitoring-client",
        };
        foreach (var (key, value) in settings) configuration["ContentMaxMonitoring:" + key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddContentMaxMonitoring();

        var app = builder.Build();
        app.UseContentMaxMonitoring();
        app.MapGet("/health", () => "ok");
        app.MapGet($"/{prefix}/items/{{id}}", (int id) => $"item {id}");
        app.MapGet($"/{prefix}/orders/{{orderId}}/lines/{{line}}", (int orderId, int line) => $"order {orderId} line {line}");
        app.MapGet($"/{prefix}/boom", string () => throw new InvalidOperationException("the test's failure"));
        await app.StartAsync();
        return new MonitoredApp(app, prefix, service);
    }

    // Sends the paths with a few requests in flight at a time; returns the status codes.
    public async Task<int[]> GetAsync(IEnumerable<string> paths, int concurrency = 8)
    {
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (path, ct) =>
        {
            using var response = await Http.GetAsync(path, ct);
            statuses.Add((int)response.StatusCode);
        });
        return [.. statuses];
    }

    // Stopping delivers everything still aggregated or buffered.
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
