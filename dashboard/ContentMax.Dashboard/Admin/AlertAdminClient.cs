using System.Net.Http.Json;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using ContentMax.Contracts.Http;
using ContentMax.Dashboard.Backend;

namespace ContentMax.Dashboard.Admin;

// What an operator changes from the Alerts tab, sent to aggregation's admin
// API with the operator's own key (OperatorKeys): aggregation checks that key's
// role, validates exactly as for any other caller, and records the key's name
// in the alert audit. The answer comes back as-is: a success, or the problem
// aggregation gave, with its errors per field for the form to show.
public sealed class AlertAdminClient(HttpClient http, ILogger<AlertAdminClient> logger)
{
    public Task<AdminResult> SilenceAsync(string key, Dictionary<string, string> matchers, DateTimeOffset endsAt, string comment, CancellationToken ct) =>
        SendAsync(key, HttpMethod.Post, "/api/alerts/silences", new SilenceRequest { Matchers = matchers, EndsAt = endsAt, Comment = comment }, ct);

    public Task<AdminResult> ExpireSilenceAsync(string key, Guid id, CancellationToken ct) =>
        SendAsync(key, HttpMethod.Delete, $"/api/alerts/silences/{id}", null, ct);

    public Task<AdminResult> PutRuleAsync(string key, string id, JsonObject rule, CancellationToken ct) =>
        SendAsync(key, HttpMethod.Put, $"/api/alerts/rules/{Uri.EscapeDataString(id)}", rule, ct);

    public Task<AdminResult> DeleteRuleAsync(string key, string id, CancellationToken ct) =>
        SendAsync(key, HttpMethod.Delete, $"/api/alerts/rules/{Uri.EscapeDataString(id)}", null, ct);

    public Task<AdminResult> PreviewRuleAsync(string key, JsonObject rule, CancellationToken ct) =>
        SendAsync(key, HttpMethod.Post, "/api/alerts/rules/preview", rule, ct);

    private async Task<AdminResult> SendAsync(string key, HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", key);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        try
        {
            using var response = await http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode)
            {
                return new AdminResult(true, (int)response.StatusCode, [], null, text.Length == 0 ? null : JsonNode.Parse(text));
            }

            return Problem(response.StatusCode, text);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            logger.LogWarning("Alert change failed to reach aggregation: {Error}", ex.GetType().Name);
            return new AdminResult(false, 0, [], "Aggregation is unavailable; nothing was changed.", null);
        }
    }

    private static AdminResult Problem(HttpStatusCode status, string text)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        string? message = null;
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                message = (string?)problem["detail"] ?? (string?)problem["title"];
                if (problem["errors"] is JsonObject fields)
                {
                    foreach (var (field, reasons) in fields)
                    {
                        errors[field] = reasons is JsonArray list ? [.. list.Select(r => (string?)r ?? "")] : [reasons?.ToString() ?? ""];
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document: the status says enough.
        }

        message = status switch
        {
            HttpStatusCode.Forbidden => "Your key may not change alerts: sign in with a key that has the admin role.",
            HttpStatusCode.Unauthorized => "Your key is no longer accepted: sign in again.",
            _ => message ?? $"Aggregation answered {(int)status}.",
        };
        return new AdminResult(false, (int)status, errors, message, null);
    }
}

// The outcome of one change: on failure, why (Message) and, for a form, the
// reasons per field as aggregation's problem named them.
public sealed record AdminResult(bool Ok, int Status, Dictionary<string, string[]> Errors, string? Message, JsonNode? Body)
{
    public string? ErrorFor(string field) => Errors.TryGetValue(field, out var reasons) ? string.Join(" ", reasons) : null;
}
