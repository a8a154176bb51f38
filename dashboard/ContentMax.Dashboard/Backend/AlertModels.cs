using ContentMax.Contracts.Http;

namespace ContentMax.Dashboard.Backend;

// The Alerts tab's own shapes; the API's answers are in ContentMax.Contracts.Http.

// A rule definition as stored, kept as JSON so the editor sends back every field it does not show.
public sealed record StoredRuleDocument(System.Text.Json.Nodes.JsonObject Rule, string Source, DateTimeOffset UpdatedAt);

// Everything the Alerts tab shows, fetched together. Audit is null while aggregation cannot list it.
public sealed record AlertsOverview(AlertsResponse Alerts, List<AlertHistoryEntry> History, List<SilenceView> Silences, List<NotificationRecord> Notifications,
    List<StoredRuleDocument> Rules, List<AuditEntry>? Audit);
