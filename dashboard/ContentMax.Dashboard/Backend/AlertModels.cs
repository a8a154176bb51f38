namespace ContentMax.Dashboard.Backend;

// The shapes of aggregation's /api/alerts and /api/slos.

public sealed record EvaluatorInfo(string Holder, DateTimeOffset AcquiredAt, DateTimeOffset LastCycleAt, long Cycles);

public sealed record AlertView(
    string Id, string Name, string Kind, string Severity, string State, bool Enabled, bool Silenced,
    double? Value, string Condition, string? Summary, Dictionary<string, string> Labels,
    DateTimeOffset? ActiveSince, DateTimeOffset? EvaluatedAt, string? Error, string RunbookUrl, string? Slo);

public sealed record AlertsReport(EvaluatorInfo? Evaluator, List<AlertView> Alerts);

public sealed record AlertHistoryEntry(long Id, string RuleId, string From, string To, double? Value, DateTimeOffset At);

public sealed record SilenceView(Guid Id, Dictionary<string, string> Matchers, DateTimeOffset StartsAt, DateTimeOffset EndsAt,
    string Comment, string CreatedBy, DateTimeOffset CreatedAt, string State);

public sealed record NotificationRecord(long Id, string RuleId, string Receiver, string Kind, string Status, int Attempts,
    string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

public sealed record SloDefinition(string Id, string Name, string? Description, double Objective, string Window);

public sealed record BudgetPoint(DateTimeOffset At, double BudgetRemaining, double Sli, long Total);

public sealed record SloReport(SloDefinition Slo, string Source, long Good, long Total, double Sli, double ErrorBudget, double BudgetRemaining,
    Dictionary<string, double> BurnRates, List<BudgetPoint>? Budget, List<string> FiringAlerts);

// Who changed what from the dashboard or the admin API: the key's name as actor.
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Target, System.Text.Json.Nodes.JsonObject? Detail);

// A rule definition as stored, kept as JSON so the editor sends back every field it does not show.
public sealed record StoredRuleDocument(System.Text.Json.Nodes.JsonObject Rule, string Source, DateTimeOffset UpdatedAt);

// Everything the Alerts tab shows, fetched together. Audit is null while aggregation cannot list it.
public sealed record AlertsOverview(AlertsReport Alerts, List<AlertHistoryEntry> History, List<SilenceView> Silences, List<NotificationRecord> Notifications,
    List<StoredRuleDocument> Rules, List<AuditEntry>? Audit);
