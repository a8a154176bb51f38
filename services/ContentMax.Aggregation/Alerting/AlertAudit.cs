using System.Security.Claims;
using System.Text.Json;
using ContentMax.ServiceDefaults;

namespace ContentMax.Aggregation.Alerting;

// What the admin API records in alert_audit for each change to rules,
// silences and SLOs. AlertStore writes the row in the change's own
// transaction; this says who acted and what the detail holds.
public static class AlertAudit
{
    public const string RuleCreated = "rule.created";
    public const string RuleUpdated = "rule.updated";
    public const string RuleDeleted = "rule.deleted";
    public const string SilenceCreated = "silence.created";
    public const string SilenceExpired = "silence.expired";
    public const string SloCreated = "slo.created";
    public const string SloUpdated = "slo.updated";
    public const string SloDeleted = "slo.deleted";

    // The calling key's configured name (never the key itself). The admin
    // routes only admit API keys, whose principal always carries it.
    public static string Actor(ClaimsPrincipal user) =>
        user.FindFirst(ApiKeyClaims.KeyName)?.Value
        ?? throw new InvalidOperationException("An admin request reached alerting without an API key name.");

    public static string Detail(AlertRule rule) => Serialize(new
    {
        rule.Name,
        rule.Kind,
        rule.Severity,
        rule.Enabled,
        Condition = AlertEvaluator.Describe(rule),
    });

    public static string Detail(SloDefinition slo) => Serialize(new
    {
        slo.Name,
        slo.Objective,
        Window = Duration.Format(slo.Window),
        slo.Enabled,
    });

    public static string Detail(Silence silence) => Serialize(new
    {
        silence.Matchers,
        silence.StartsAt,
        silence.EndsAt,
        silence.Comment,
    });

    // An expired silence: what it matched, and when it was to end and did end.
    public static string Detail(Silence silence, DateTimeOffset endedAt) => Serialize(new
    {
        silence.Matchers,
        silence.StartsAt,
        PlannedEndsAt = silence.EndsAt,
        EndsAt = endedAt,
        silence.Comment,
    });

    private static string Serialize<T>(T detail) => JsonSerializer.Serialize(detail, AlertingJson.Options);
}

// One row of alert_audit as GET /api/alerts/audit answers it.
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Target, JsonElement Detail);
