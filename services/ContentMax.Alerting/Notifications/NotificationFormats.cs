using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ContentMax.Alerting.Notifications;

// What one notification says about one alert, captured when it is queued.
public sealed record AlertSnapshot
{
    public required string RuleId { get; init; }
    public required string Name { get; init; }
    public required string Severity { get; init; }
    public required string Kind { get; init; }           // firing | repeat | resolved
    public string? Summary { get; init; }
    public double? Value { get; init; }
    public string? Condition { get; init; }              // e.g. "p95(api_response_time) over 5m > 800"
    public required Dictionary<string, string> Labels { get; init; }
    public required DateTimeOffset StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public string RunbookUrl { get; init; } = "";
    public string DashboardUrl { get; init; } = "";

    public string Status => Kind == "resolved" ? "resolved" : "firing";
}

// The formats receivers understand:
// - generic: ContentMax's own JSON;
// - slack: a Slack incoming webhook;
// - alertmanager-webhook: the body Alertmanager itself sends to webhook_configs
//   (version 4), for tools that accept Alertmanager's webhooks;
// - alertmanager-api: delivers into an Alertmanager, POST {Url}/api/v2/alerts,
//   re-sent while firing (Alertmanager resolves an alert it stops hearing
//   about), with endsAt once resolved.
public static class NotificationFormats
{
    public const string Generic = "generic";
    public const string Slack = "slack";
    public const string AlertmanagerWebhook = "alertmanager-webhook";
    public const string AlertmanagerApi = "alertmanager-api";

    // The name the webhook body had before there were two Alertmanager formats:
    // refused at startup with a message, so nobody points it at an Alertmanager by mistake.
    public const string LegacyAlertmanager = "alertmanager";

    public static readonly string[] All = [Generic, Slack, AlertmanagerWebhook, AlertmanagerApi];

    // How long Alertmanager keeps a firing alert it has not heard about again;
    // the evaluator re-sends well within it (Alerting:AlertmanagerResendInterval).
    public static readonly TimeSpan AlertmanagerHold = TimeSpan.FromMinutes(5);

    public static JsonNode Render(string format, AlertSnapshot alert, string receiver) => format switch
    {
        Generic => RenderGeneric(alert),
        Slack => RenderSlack(alert),
        AlertmanagerWebhook => RenderAlertmanager(alert, receiver),
        AlertmanagerApi => RenderAlertmanagerApi(alert, DateTimeOffset.UtcNow),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown notification format."),
    };

    // Where a receiver's notifications go.
    public static string Target(ReceiverOptions receiver) =>
        receiver.Format == AlertmanagerApi ? receiver.Url.TrimEnd('/') + "/api/v2/alerts" : receiver.Url;

    // Alertmanager's postable alerts: an array of one. A firing alert ends
    // AlertmanagerHold from now unless it is heard of again; a resolved one at its end.
    public static JsonArray RenderAlertmanagerApi(AlertSnapshot alert, DateTimeOffset now)
    {
        var annotations = new JsonObject { ["summary"] = alert.Summary ?? alert.Name };
        if (alert.Condition is not null) annotations["description"] = alert.Condition;
        if (alert.Value is { } value) annotations["value"] = value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
        if (alert.RunbookUrl.Length > 0) annotations["runbook_url"] = alert.RunbookUrl;
        var labels = Labels(alert.Labels);
        labels["alertname"] ??= alert.RuleId;
        var posted = new JsonObject
        {
            ["labels"] = labels,
            ["annotations"] = annotations,
            ["startsAt"] = alert.StartsAt.ToString("O"),
            ["endsAt"] = (alert.Kind == "resolved" ? alert.EndsAt ?? now : now + AlertmanagerHold).ToString("O"),
        };
        if (alert.DashboardUrl.Length > 0) posted["generatorURL"] = alert.DashboardUrl;
        return [posted];
    }

    private static JsonObject RenderGeneric(AlertSnapshot alert) => new()
    {
        ["version"] = 1,
        ["kind"] = alert.Kind,
        ["status"] = alert.Status,
        ["alert"] = new JsonObject
        {
            ["id"] = alert.RuleId,
            ["name"] = alert.Name,
            ["severity"] = alert.Severity,
            ["summary"] = alert.Summary,
            ["condition"] = alert.Condition,
            ["value"] = alert.Value,
            ["labels"] = Labels(alert.Labels),
            ["startsAt"] = alert.StartsAt,
            ["endsAt"] = alert.EndsAt,
            ["runbookUrl"] = alert.RunbookUrl,
            ["dashboardUrl"] = alert.DashboardUrl,
        },
    };

    // A Slack incoming webhook: a plain-text fallback and blocks for the message itself.
    private static JsonObject RenderSlack(AlertSnapshot alert)
    {
        var (icon, word) = alert.Kind switch
        {
            "resolved" => (":white_check_mark:", "RESOLVED"),
            "repeat" => (":rotating_light:", "STILL FIRING"),
            _ => (":rotating_light:", "FIRING"),
        };
        var headline = $"{icon} [{word}] {alert.Severity}: {alert.Name}";
        var details = new StringBuilder();
        details.Append('*').Append(Escape(headline)).Append('*');
        if (alert.Summary is not null) details.Append('\n').Append(Escape(alert.Summary));
        if (alert.Condition is not null)
        {
            details.Append("\n`").Append(Escape(alert.Condition)).Append('`');
            if (alert.Value is { } value) details.Append(" (now ").Append(value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)).Append(')');
        }

        var links = new List<string>();
        if (alert.RunbookUrl.Length > 0) links.Add($"<{alert.RunbookUrl}|Runbook>");
        if (alert.DashboardUrl.Length > 0) links.Add($"<{alert.DashboardUrl}|Dashboard>");
        links.Add($"since {alert.StartsAt:yyyy-MM-dd HH:mm:ss} UTC");

        return new JsonObject
        {
            ["text"] = headline,
            ["blocks"] = new JsonArray(
                new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = details.ToString() } },
                new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = string.Join(" · ", links) }),
                }),
        };
    }

    // Alertmanager's webhook_config body (version 4): one group per rule. This
    // is what Alertmanager sends, not what it accepts (see alertmanager-api).
    private static JsonObject RenderAlertmanager(AlertSnapshot alert, string receiver)
    {
        var annotations = new JsonObject { ["summary"] = alert.Summary ?? alert.Name };
        if (alert.Condition is not null) annotations["description"] = alert.Condition;
        if (alert.RunbookUrl.Length > 0) annotations["runbook_url"] = alert.RunbookUrl;

        return new JsonObject
        {
            ["version"] = "4",
            ["groupKey"] = $"{{}}:{{alertname=\"{alert.RuleId}\"}}",
            ["truncatedAlerts"] = 0,
            ["status"] = alert.Status,
            ["receiver"] = receiver,
            ["groupLabels"] = new JsonObject { ["alertname"] = alert.RuleId },
            ["commonLabels"] = Labels(alert.Labels),
            ["commonAnnotations"] = annotations.DeepClone(),
            ["externalURL"] = alert.DashboardUrl,
            ["alerts"] = new JsonArray(new JsonObject
            {
                ["status"] = alert.Status,
                ["labels"] = Labels(alert.Labels),
                ["annotations"] = annotations,
                ["startsAt"] = alert.StartsAt,
                // Alertmanager's zero time means "still firing".
                ["endsAt"] = alert.EndsAt is { } ends ? ends.ToString("O") : "0001-01-01T00:00:00Z",
                ["generatorURL"] = alert.DashboardUrl,
                ["fingerprint"] = Fingerprint(alert.Labels),
            }),
        };
    }

    private static JsonObject Labels(Dictionary<string, string> labels)
    {
        var json = new JsonObject();
        foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal)) json[key] = value;
        return json;
    }

    public static string Fingerprint(IReadOnlyDictionary<string, string> labels)
    {
        var text = string.Join('\u00ff', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + '\u00fe' + l.Value));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    // Slack's mrkdwn treats &, < and > as control characters.
    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
