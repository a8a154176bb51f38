using System.Net;
using ContentMax.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Tests;

// A real ASP.NET Core app on 127.0.0.1:0 with the middleware, sending to the
// fake ingestion; what arrived is read with the server's parser.
public class RequestMetricsMiddlewareTests
{
    private static async Task<(WebApplication App, HttpClient Http)> StartAppAsync(FakeIngestion ingestion, params (string Key, string? Value)[] settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = ClientHost.ServiceName });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(ClientHost.Settings(ingestion.BaseUrl, [("FlushInterval", "1h"), .. settings]));
        builder.AddContentMaxMonitoring();

        var app = builder.Build();
        app.UseContentMaxMonitoring();
        app.MapGet("/items/{id}", (int id) => $"item {id}");
        app.MapPost("/items", () => Results.Created("/items/1", null));
        app.MapGet("api/relative", () => "no leading slash");
        app.MapGet("/boom", string () => throw new InvalidOperationException("boom"));
        app.MapGet("/health", () => "ok");
        app.MapGet("/health/ready", () => "ok");
        app.MapGet("/healthcare", () => "not health");
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(app.Urls.First()) });
    }

    private static MetricPoint[] Points(FakeIngestion ingestion, string metric) =>
        [.. ingestion.Accepted.Where(p => p.Metric == metric)];

    [Fact]
    public async Task Requests_AreCountedPerRouteTemplateMethodAndStatus_NeverPerRawPath()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var (app, http) = await StartAppAsync(ingestion);
        foreach (var id in new[] { 1, 2, 3, 42 }) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/items/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/items", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/no/such/page/123")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/relative")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthcare")).StatusCode);
        await app.StopAsync();
        await app.DisposeAsync();

        var requests = Points(ingestion, "api_requests").ToDictionary(p => $"{p.Tags!["method"]} {p.Tags["route"]} {p.Tags["status"]}");
        Assert.Equal(["GET /api/relative 200", "GET /healthcare 200", "GET /items/{id} 200", "GET unmatched 404", "POST /items 201"], requests.Keys.Order());
        Assert.Equal(4, requests["GET /items/{id} 200"].Count);
        Assert.Equal(4, requests["GET /items/{id} 200"].Value);
        Assert.All(requests.Values, p => Assert.Equal(ClientHost.ServiceName, p.Tags!["service"]));
        Assert.DoesNotContain(ingestion.Accepted, p => p.Tags!.Values.Any(v => v.Contains("/items/4") || v.Contains("/no/such")));

        var times = Points(ingestion, "api_response_time").Single(p => p.Tags!["route"] == "/items/{id}");
        Assert.Equal(4, times.Count);
        Assert.InRange(times.Distribution!.Min!.Value, 0, times.Distribution.Max!.Value);
        Assert.InRange(times.Value / times.Count, 0.0001, 1000);
    }

    [Fact]
    public async Task ExcludedPaths_AreNotRecorded()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var (app, http) = await StartAppAsync(ingestion);
        await http.GetAsync("/health");
        await http.GetAsync("/health/ready");
        await http.GetAsync("/alive");
        await http.GetAsync("/items/1");
        await app.StopAsync();
        await app.DisposeAsync();

        var routes = Points(ingestion, "api_requests").Select(p => p.Tags!["route"]).ToArray();
        Assert.Equal(["/items/{id}"], routes);
    }

    [Fact]
    public async Task AnUnhandledException_RecordsAnErrorAndA500_AndIsRethrown()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var (app, http) = await StartAppAsync(ingestion);
        Assert.Equal(HttpStatusCode.InternalServerError, (await http.GetAsync("/boom")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await http.GetAsync("/boom")).StatusCode);
        await app.StopAsync();
        await app.DisposeAsync();

        var error = Assert.Single(Points(ingestion, "errors"));
        Assert.Equal(2, error.Count);
        Assert.Equal("error", error.Tags!["level"]);
        Assert.Equal(nameof(InvalidOperationException), error.Tags["type"]);
        Assert.Equal("/boom", error.Tags["route"]);
        Assert.Equal(ClientHost.ServiceName, error.Tags["service"]);
        var request = Assert.Single(Points(ingestion, "api_requests"));
        Assert.Equal(("/boom", "500", 2L), (request.Tags!["route"], request.Tags["status"], request.Count));
    }

    [Fact]
    public async Task Disabled_LeavesThePipelineAlone()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var (app, http) = await StartAppAsync(ingestion, ("Enabled", "false"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/items/1")).StatusCode);
        await app.StopAsync();
        await app.DisposeAsync();

        Assert.Empty(ingestion.Arrivals);
    }
}
