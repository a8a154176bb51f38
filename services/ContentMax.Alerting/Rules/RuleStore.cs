using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Rules;

public sealed record StoredRule(AlertRule Rule, string Source, DateTimeOffset UpdatedAt);

public sealed record StoredSlo(SloDefinition Slo, string Source, DateTimeOffset UpdatedAt);

public enum DeleteOutcome
{
    Deleted,
    NotFound,
    Seeded,
}

// The definitions of alert rules and of SLOs (alert_rules, slos), from the seed
// file and the admin API. Both kinds share one row shape and one ownership
// rule (seed or api), so they share the SQL here. Each change is audited in
// its own statement or transaction.
public sealed class RuleStore(NpgsqlDataSource dataSource)
{
    // The seed file owns the rows it created until the API changes them: a
    // seeded row is refreshed from the file, and dropped when the file no
    // longer has it; rows the API wrote are left alone.
    public async Task SeedAsync(AlertingSeed seed, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await SeedTableAsync(connection, "alert_rules", seed.Rules.Select(r => (r.Id, JsonSerializer.Serialize(r, AlertingJson.Options))), null, cancellationToken);
        // A changed SLO starts counting afresh, as after a PUT.
        await SeedTableAsync(connection, "slos", seed.Slos.Select(s => (s.Id, JsonSerializer.Serialize(s, AlertingJson.Options))),
            "minutes AS (DELETE FROM slo_minutes WHERE slo_id IN (SELECT id FROM seeded)), progress AS (DELETE FROM slo_progress WHERE slo_id IN (SELECT id FROM seeded))",
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    // `onChange`: more CTEs run with the ids seeded (inserted or changed) in `seeded`.
    private static async Task SeedTableAsync(NpgsqlConnection connection, string table, IEnumerable<(string Id, string Json)> rows, string? onChange,
        CancellationToken cancellationToken)
    {
        var list = rows.ToList();
        await using var command = new NpgsqlCommand($"""
            WITH seeded AS (
                INSERT INTO {table} (id, definition, source)
                SELECT id, definition, 'seed' FROM unnest($1::text[], $2::jsonb[]) AS s(id, definition)
                ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = now()
                    WHERE {table}.source = 'seed' AND {table}.definition <> excluded.definition
                RETURNING id
            ){(onChange is null ? "" : ", " + onChange)}
            DELETE FROM {table} WHERE source = 'seed' AND NOT (id = ANY($1))
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(r => r.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(r => r.Json).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<List<StoredRule>> RulesAsync(CancellationToken cancellationToken) =>
        await ReadDefinitionsAsync<AlertRule, StoredRule>("alert_rules", null, (r, s, u) => new StoredRule(r, s, u), cancellationToken);

    public async Task<StoredRule?> RuleAsync(string id, CancellationToken cancellationToken) =>
        (await ReadDefinitionsAsync<AlertRule, StoredRule>("alert_rules", id, (r, s, u) => new StoredRule(r, s, u), cancellationToken)).SingleOrDefault();

    public async Task<List<StoredSlo>> SlosAsync(CancellationToken cancellationToken) =>
        await ReadDefinitionsAsync<SloDefinition, StoredSlo>("slos", null, (d, s, u) => new StoredSlo(d, s, u), cancellationToken);

    public async Task<StoredSlo?> SloAsync(string id, CancellationToken cancellationToken) =>
        (await ReadDefinitionsAsync<SloDefinition, StoredSlo>("slos", id, (d, s, u) => new StoredSlo(d, s, u), cancellationToken)).SingleOrDefault();

    private async Task<List<TStored>> ReadDefinitionsAsync<TDefinition, TStored>(
        string table, string? id, Func<TDefinition, string, DateTimeOffset, TStored> create, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT definition::text, source, updated_at FROM {table} WHERE $1::text IS NULL OR id = $1 ORDER BY id");
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var result = new List<TStored>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var definition = JsonSerializer.Deserialize<TDefinition>(reader.GetString(0), AlertingJson.Options)!;
            result.Add(create(definition, reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return result;
    }

    // Returns true when the rule is new. A create or an actual change is
    // audited as `actor`'s, in the same statement; a PUT that changes nothing
    // records nothing.
    public Task<bool> PutRuleAsync(AlertRule rule, string actor, CancellationToken cancellationToken) =>
        PutDefinitionAsync("alert_rules", rule.Id, JsonSerializer.Serialize(rule, AlertingJson.Options), null,
            (actor, AlertAudit.RuleCreated, AlertAudit.RuleUpdated, AlertAudit.Detail(rule)), cancellationToken);

    // A changed SLO starts counting afresh: its old minute counts used other selectors.
    public Task<bool> PutSloAsync(SloDefinition slo, string actor, CancellationToken cancellationToken) =>
        PutDefinitionAsync("slos", slo.Id, JsonSerializer.Serialize(slo, AlertingJson.Options),
            "DELETE FROM slo_minutes WHERE slo_id = $1 AND EXISTS (SELECT 1 FROM changed)), progress AS (DELETE FROM slo_progress WHERE slo_id = $1 AND EXISTS (SELECT 1 FROM changed)",
            (actor, AlertAudit.SloCreated, AlertAudit.SloUpdated, AlertAudit.Detail(slo)), cancellationToken);

    private async Task<bool> PutDefinitionAsync(string table, string id, string json, string? onChange,
        (string Actor, string Created, string Updated, string Detail) audit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH previous AS (SELECT definition FROM {table} WHERE id = $1),
            changed AS (
                INSERT INTO {table} (id, definition, source) VALUES ($1, $2::jsonb, 'api')
                ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, source = 'api', updated_at = now()
                    WHERE {table}.definition <> excluded.definition OR {table}.source <> 'api'
                RETURNING id
            ){(onChange is null ? "" : $", cleared AS ({onChange} RETURNING 1)")},
            audited AS (
                INSERT INTO alert_audit (actor, action, target, detail)
                SELECT $3, CASE WHEN EXISTS (SELECT 1 FROM previous) THEN $5 ELSE $4 END, id, $6::jsonb FROM changed
            )
            SELECT NOT EXISTS (SELECT 1 FROM previous)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = json });
        command.Parameters.Add(new NpgsqlParameter { Value = audit.Actor });
        command.Parameters.Add(new NpgsqlParameter { Value = audit.Created });
        command.Parameters.Add(new NpgsqlParameter { Value = audit.Updated });
        command.Parameters.Add(new NpgsqlParameter { Value = audit.Detail });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public Task<DeleteOutcome> DeleteRuleAsync(string id, string actor, CancellationToken cancellationToken) =>
        DeleteDefinitionAsync("alert_rules", id, ["DELETE FROM alert_states WHERE rule_id = $1"],
            actor, AlertAudit.RuleDeleted, json => AlertAudit.Detail(JsonSerializer.Deserialize<AlertRule>(json, AlertingJson.Options)!), cancellationToken);

    public Task<DeleteOutcome> DeleteSloAsync(string id, string actor, CancellationToken cancellationToken) =>
        DeleteDefinitionAsync("slos", id, ["DELETE FROM slo_minutes WHERE slo_id = $1", "DELETE FROM slo_progress WHERE slo_id = $1", "DELETE FROM alert_states WHERE rule_id LIKE 'slo:' || $1 || ':%'"],
            actor, AlertAudit.SloDeleted, json => AlertAudit.Detail(JsonSerializer.Deserialize<SloDefinition>(json, AlertingJson.Options)!), cancellationToken);

    // Deletes a row the API wrote, with its leftovers and an audit row of what it was, in one transaction.
    private async Task<DeleteOutcome> DeleteDefinitionAsync(string table, string id, string[] cleanup,
        string actor, string action, Func<string, string> detailOf, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var find = new NpgsqlCommand($"SELECT source, definition::text FROM {table} WHERE id = $1 FOR UPDATE", connection, transaction);
        find.Parameters.Add(new NpgsqlParameter { Value = id });
        string source, definition;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return DeleteOutcome.NotFound;
            (source, definition) = (reader.GetString(0), reader.GetString(1));
        }

        if (source == "seed") return DeleteOutcome.Seeded;

        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var sql in cleanup.Prepend($"DELETE FROM {table} WHERE id = $1"))
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            batch.BatchCommands.Add(command);
        }

        batch.BatchCommands.Add(AlertAudit.Record(actor, action, id, detailOf(definition)));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return DeleteOutcome.Deleted;
    }
}
