using System.Security.Claims;
using System.Text.Json;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;
using Npgsql;

namespace ContentMax.Alerting.Storage;

// What the admin API records in alert_audit for each change to rules,
// silences and SLOs: who acted and what the detail holds. RuleStore and
// SilenceStore add the row to the change's own transaction (Record); this
// reads them back.
public sealed class AlertAudit(NpgsqlDataSource dataSource)
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

    // The audit row, for the batch or transaction of the change it records.
    public static NpgsqlBatchCommand Record(string actor, string action, string target, string detail)
    {
        var command = new NpgsqlBatchCommand("INSERT INTO alert_audit (actor, action, target, detail) VALUES ($1, $2, $3, $4::jsonb)");
        command.Parameters.Add(new NpgsqlParameter { Value = actor });
        command.Parameters.Add(new NpgsqlParameter { Value = action });
        command.Parameters.Add(new NpgsqlParameter { Value = target });
        command.Parameters.Add(new NpgsqlParameter { Value = detail });
        return command;
    }

    // Newest first.
    public async Task<List<AuditEntry>> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, at, actor, action, target, detail::text FROM alert_audit ORDER BY at DESC, id DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var entries = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            using var detail = JsonDocument.Parse(reader.GetString(5));
            entries.Add(new AuditEntry(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), detail.RootElement.Clone()));
        }

        return entries;
    }
}

