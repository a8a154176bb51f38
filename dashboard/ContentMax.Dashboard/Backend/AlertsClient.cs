using ContentMax.Contracts.Http;
using System.Net.Http.Json;

namespace ContentMax.Dashboard.Backend;

// Alerts and SLOs from aggregation, with the read key like every other read.
public sealed class AlertsClient(HttpClient http, ILogger<AlertsClient> logger)
{
    public async Task<Fetched<AlertsOverview>> OverviewAsync(CancellationToken ct)
    {
        try
        {
            var alerts = http.GetFromJsonAsync<AlertsResponse>("/api/alerts", ct);
            var history = http.GetFromJsonAsync<List<AlertHistoryEntry>>("/api/alerts/history?limit=50", ct);
            var silences = http.GetFromJsonAsync<List<SilenceView>>("/api/alerts/silences", ct);
            var notifications = http.GetFromJsonAsync<List<NotificationRecord>>("/api/alerts/notifications?limit=30", ct);
            var rules = http.GetFromJsonAsync<List<StoredRuleDocument>>("/api/alerts/rules", ct);
            var audit = AuditAsync(ct);
            return new Fetched<AlertsOverview>(
                new AlertsOverview((await alerts)!, (await history)!, (await silences)!, (await notifications)!, (await rules)!, await audit), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or IOException)
        {
            logger.LogWarning("Alerts unavailable: {Error}", ex.GetType().Name);
            return new Fetched<AlertsOverview>(null, "The alerts are unavailable.");
        }
    }

    private async Task<List<AuditEntry>?> AuditAsync(CancellationToken ct)
    {
        try
        {
            return await http.GetFromJsonAsync<List<AuditEntry>>("/api/alerts/audit?limit=50", ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or IOException)
        {
            logger.LogWarning("Alert audit unavailable: {Error}", ex.GetType().Name);
            return null;
        }
    }

    // Every SLO with its budget chart.
    public async Task<Fetched<List<SloReport>>> SlosAsync(CancellationToken ct)
    {
        try
        {
            return new Fetched<List<SloReport>>(await http.GetFromJsonAsync<List<SloReport>>("/api/slos?chart=true", ct), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or IOException)
        {
            logger.LogWarning("SLOs unavailable: {Error}", ex.GetType().Name);
            return new Fetched<List<SloReport>>(null, "The SLOs are unavailable.");
        }
    }
}
