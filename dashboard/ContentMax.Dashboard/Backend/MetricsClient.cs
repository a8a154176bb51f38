using ContentMax.Contracts.Http;
using System.Net.Http.Json;
using ContentMax.Dashboard.Explore;

namespace ContentMax.Dashboard.Backend;

public sealed class MetricsClient(HttpClient http, ILogger<MetricsClient> logger)
{
    public Task<Fetched<AggregatesResponse>> AggregatesAsync(string period, CancellationToken ct) =>
        GetAsync<AggregatesResponse>($"/api/metrics?period={period}", ct);

    public Task<Fetched<SeriesResponse>> SeriesAsync(string metric, string period, string? step, CancellationToken ct) =>
        GetAsync<SeriesResponse>($"/api/metrics/series?metric={Uri.EscapeDataString(metric)}&period={period}" + (step is null ? "" : $"&step={step}"), ct);

    public Task<Fetched<BreakdownResponse>> BreakdownAsync(string metric, string tag, string period, CancellationToken ct) =>
        GetAsync<BreakdownResponse>($"/api/metrics/breakdown?metric={Uri.EscapeDataString(metric)}&tag={Uri.EscapeDataString(tag)}&period={period}&limit=20", ct);

    // Per endpoint, whichever way a service names it: the route template the
    // ContentMax client library tags as `route`, or `endpoint` as hand-written
    // tracking calls do. One grouped query, so every point is in exactly one
    // row: its route, else its endpoint, else "(no endpoint tag)"; beyond the
    // top 50 combinations, "(other endpoints)". The rows add up to the whole.
    public async Task<Fetched<EndpointBreakdown>> EndpointBreakdownAsync(string metric, string period, CancellationToken ct)
    {
        var grouped = await GetAsync<BreakdownResponse>(
            $"/api/metrics/breakdown?metric={Uri.EscapeDataString(metric)}&groupBy=route&groupBy=endpoint&period={period}&limit=50", ct);
        if (!grouped.Ok) return new Fetched<EndpointBreakdown>(null, grouped.Error);

        var rows = new Dictionary<string, List<MetricAggregate>>(StringComparer.Ordinal);
        foreach (var group in grouped.Value!.Groups ?? [])
        {
            var endpoint = group.Other ? EndpointBreakdown.Other
                : Tag(group, "route") ?? Tag(group, "endpoint") ?? EndpointBreakdown.Untagged;
            if (!rows.TryGetValue(endpoint, out var parts)) rows[endpoint] = parts = [];
            parts.Add(group.Aggregate);
        }

        return new Fetched<EndpointBreakdown>(new EndpointBreakdown(metric, rows.ToDictionary(r => r.Key, r => EndpointBreakdown.Combine(r.Value))), null);
    }

    private static string? Tag(ExplorerGroup group, string key) => group.Group.GetValueOrDefault(key) is { Length: > 0 } value ? value : null;

    // The explorer's view: grouped and filtered series, as the query names them.
    public Task<Fetched<SeriesResponse>> ExploreAsync(ExploreQuery query, CancellationToken ct) =>
        GetAsync<SeriesResponse>(query.SeriesPath, ct);

    // Tag keys and their commonest values on one metric, to offer as filters and groupings.
    public Task<Fetched<TagsResponse>> TagsAsync(string metric, string period, CancellationToken ct) =>
        GetAsync<TagsResponse>($"/api/metrics/tags?metric={Uri.EscapeDataString(metric)}&period={Uri.EscapeDataString(period)}", ct);

    // p75 of LCP, INP and CLS per page: by the `page` tag where pages carry
    // one, else by `route` (what the browser snippet tags every vital with).
    public async Task<Fetched<VitalsByPage>> VitalsByPageAsync(string period, CancellationToken ct)
    {
        string[] vitals = ["LCP", "INP", "CLS"];
        foreach (var tag in (string[])["page", "route"])
        {
            var found = new Dictionary<string, Dictionary<string, MetricAggregate>>();
            foreach (var vital in vitals)
            {
                var breakdown = await BreakdownAsync(vital, tag, period, ct);
                if (!breakdown.Ok) return new Fetched<VitalsByPage>(null, breakdown.Error);
                found[vital] = breakdown.Value!.Values.Where(kv => kv.Key.Length > 0).ToDictionary();
            }

            if (found.Values.Any(v => v.Count > 0) || tag == "route")
            {
                var rows = found.Values.SelectMany(v => v.Keys).Distinct(StringComparer.Ordinal)
                    .Select(page => new PageVitals(page, found["LCP"].GetValueOrDefault(page), found["INP"].GetValueOrDefault(page), found["CLS"].GetValueOrDefault(page)))
                    .OrderByDescending(r => r.Samples)
                    .ThenBy(r => r.Page, StringComparer.Ordinal)
                    .ToList();
                return new Fetched<VitalsByPage>(new VitalsByPage(tag, rows), null);
            }
        }

        return new Fetched<VitalsByPage>(new VitalsByPage("route", []), null);
    }

    public Task<Fetched<RawResponse>> LatestAsync(string metric, string period, CancellationToken ct) =>
        GetAsync<RawResponse>($"/api/metrics/raw?metric={Uri.EscapeDataString(metric)}&period={period}&limit=1", ct);

    private async Task<Fetched<T>> GetAsync<T>(string url, CancellationToken ct) where T : class
    {
        try
        {
            using var response = await http.GetAsync(url, ct);
            if (response.StatusCode == System.Net.HttpStatusCode.BadRequest)
            {
                // The query itself is wrong (a hand-edited link): say what aggregation said.
                var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>(ct);
                var reasons = problem?.Errors.Select(e => $"{e.Key} {string.Join("; ", e.Value)}") ?? [];
                return new Fetched<T>(null, "The query is not valid: " + string.Join(". ", reasons) + ".");
            }

            response.EnsureSuccessStatusCode();
            return new Fetched<T>(await response.Content.ReadFromJsonAsync<T>(ct), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            logger.LogWarning("Aggregation API unavailable for {Url}: {Error}", url.Split('?')[0], ex.GetType().Name);
            return new Fetched<T>(null, "The aggregation service is unavailable.");
        }
    }
}
