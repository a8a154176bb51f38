using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContentMax.Contracts.Http;

// The bodies of aggregation's /api/alerts and /api/slos (the alerting library).
// Rule definitions are not here: GET /api/alerts/rules answers the rule as
// alerting stores it, and readers that edit it keep it as JSON.

public sealed record EvaluatorInfo(string Holder, DateTimeOffset AcquiredAt, DateTimeOffset LastCycleAt, long Cycles);

public sealed record AlertView(
    string Id, string Name, string Kind, string Severity, string State, bool Enabled, bool Silenced,
    double? Value, string Condition, string? Summary, Dictionary<string, string> Labels,
    DateTimeOffset? ActiveSince, DateTimeOffset? EvaluatedAt, string? Error, string RunbookUrl, string? Slo);

public sealed record AlertsResponse(EvaluatorInfo? Evaluator, List<AlertView> Alerts);

public sealed record AlertHistoryEntry(long Id, string RuleId, string From, string To, double? Value, DateTimeOffset At);

// POST /api/alerts/silences. Unset fields are left out when written, as the
// server reads unknown fields as an error and needs only what was chosen.
public sealed record SilenceRequest
{
    public Dictionary<string, string>? Matchers { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? StartsAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? EndsAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Duration { get; init; }

    public string? Comment { get; init; }
}

public sealed record SilenceView(Guid Id, Dictionary<string, string> Matchers, DateTimeOffset StartsAt, DateTimeOffset EndsAt,
    string Comment, string CreatedBy, DateTimeOffset CreatedAt, string State);

public sealed record NotificationRecord(
    long Id, string RuleId, string Receiver, string Kind, string Status, int Attempts,
    string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

// One row of the audit of admin changes: the key's name as actor.
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Target, JsonElement Detail);

public sealed record RulePreview(double? Value, bool WouldFire, string Condition, string? Error);

// An SLO as reported: its definition as written (Window as a duration such
// as "30d"), without what alerting derives from it.
public sealed record SloView(string Id, string Name, string? Description, bool Enabled, double Objective, string Window,
    MetricSelectorView Good, MetricSelectorView Total, Dictionary<string, string> Labels, string? Runbook);

public sealed record MetricSelectorView(string Metric, Dictionary<string, string>? Tags, List<ValueFilterView>? Where);

public sealed record ValueFilterView(string? Tag, string Op, double Value);

public sealed record BudgetPoint(DateTimeOffset At, double BudgetRemaining, double Sli, long Total);

public sealed record SloReport(
    SloView Slo, string Source, long Good, long Total, double Sli, double ErrorBudget, double BudgetRemaining,
    Dictionary<string, double> BurnRates, List<BudgetPoint>? Budget, List<string> FiringAlerts);
