using System.Net.Http.Json;

namespace ContentMax.Dashboard;

public sealed class MetricsClient(HttpClient http, ILogger<MetricsClient> logger)
{
    public Task<Fetched<AggregatesReport>> AggregatesAsync(string period, CancellationToken ct) =>
        GetAsync<AggregatesReport>($"/api/metrics?period={period}", ct);

    public Task<Fetched<SeriesReport>> SeriesAsync(string metric, string period, string? step, CancellationToken ct) =>
        GetAsync<SeriesReport>($"/api/metrics/series?metric={Uri.EscapeDataString(metric)}&period={period}" + (step is null ? "" : $"&step={step}"), ct);

    public Task<Fetched<BreakdownReport>> BreakdownAsync(string metric, string tag, string period, CancellationToken ct) =>
        GetAsync<BreakdownReport>($"/api/metrics/breakdown?metric={Uri.EscapeDataString(metric)}&tag={Uri.EscapeDataString(tag)}&period={period}&limit=20", ct);

    // Per endpoint, whichever way a service names it: the route template the
    // ContentMax client library tags as `route`, or `endpoint` as hand-written
    // tracking calls do. Points tagged with neither are left out.
    public async Task<Fetched<BreakdownReport>> EndpointBreakdownAsync(string metric, string period, CancellationToken ct)
    {
        var byRoute = await BreakdownAsync(metric, "route", period, ct);
        var byEndpoint = await BreakdownAsync(metric, "endpoint", period, ct);
        if (!byRoute.Ok || !byEndpoint.Ok) return byRoute.Ok ? byEndpoint : byRoute;

        var values = byEndpoint.Value!.Values.Where(kv => kv.Key.Length > 0).ToDictionary();
        foreach (var (route, aggregate) in byRoute.Value!.Values.Where(kv => kv.Key.Length > 0)) values[route] = aggregate;
        return new Fetched<BreakdownReport>(new BreakdownReport(metric, "endpoint", values), null);
    }

    public Task<Fetched<RawReport>> LatestAsync(string metric, string period, CancellationToken ct) =>
        GetAsync<RawReport>($"/api/metrics/raw?metric={Uri.EscapeDataString(metric)}&period={period}&limit=1", ct);

    private async Task<Fetched<T>> GetAsync<T>(string url, CancellationToken ct) where T : class
    {
        try
        {
            return new Fetched<T>(await http.GetFromJsonAsync<T>(url, ct), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            logger.LogWarning("Aggregation API unavailable for {Url}: {Error}", url.Split('?')[0], ex.GetType().Name);
            return new Fetched<T>(null, "The aggregation service is unavailable.");
        }
    }
}
