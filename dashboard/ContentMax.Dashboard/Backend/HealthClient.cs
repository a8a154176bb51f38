using ContentMax.Contracts.Http;
using System.Net;
using System.Net.Http.Json;

namespace ContentMax.Dashboard.Backend;

public sealed class HealthClient(HttpClient http, ILogger<HealthClient> logger)
{
    public async Task<Fetched<HealthResponse>> HealthAsync(CancellationToken ct)
    {
        try
        {
            // 503 still carries the report: it means "unhealthy", not "no answer".
            using var response = await http.GetAsync("/api/health", ct);
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var report = await response.Content.ReadFromJsonAsync<HealthResponse>(ct);
                if (report is not null) return new Fetched<HealthResponse>(report, null);
            }

            return new Fetched<HealthResponse>(null, $"The health-probe answered {(int)response.StatusCode}.");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            logger.LogWarning("Health-probe unavailable: {Error}", ex.GetType().Name);
            return new Fetched<HealthResponse>(null, "The health-probe is unavailable.");
        }
    }

    public async Task<Fetched<HealthHistoryResponse>> HistoryAsync(string period, CancellationToken ct)
    {
        try
        {
            return new Fetched<HealthHistoryResponse>(await http.GetFromJsonAsync<HealthHistoryResponse>($"/api/health/history?period={period}", ct), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            logger.LogWarning("Health history unavailable: {Error}", ex.GetType().Name);
            return new Fetched<HealthHistoryResponse>(null, "The health history is unavailable.");
        }
    }
}
