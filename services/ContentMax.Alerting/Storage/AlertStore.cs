using System.Text.Json;
using ContentMax.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Storage;

public sealed record StoredRule(AlertRule Rule, string Source, DateTimeOffset UpdatedAt);

public sealed record StoredSlo(SloDefinition Slo, string Source, DateTimeOffset UpdatedAt);

public sealed record StoredState(AlertStatus Status, double? Value, string? Error, DateTimeOffset EvaluatedAt);

public sealed record EvaluationResult(string RuleId, AlertStatus Previous, AlertStatus Next, double? Value, string? Error);

public sealed record QueuedNotification(string RuleId, string Receiver, string Kind, AlertSnapshot Alert);

public sealed record HealthCheckStatus(string Check, string Group, string Status, DateTimeOffset Since, string? Error);

public enum DeleteOutcome
{
    Deleted,
    NotFound,
    Seeded,
}

// Longer than our usual 300 lines: one store per concept (rules and SLOs,
// evaluation state, silences, health, notifications) is the next step; the
// sections below are those seams, and the evaluator's cycle writes states,
// history and notifications in one transaction across them.
//
// Everything alerting keeps in Postgres: rules, SLOs, states and their history,
// silences, the notification outbox, the latest health of every check, and
// the audit of admin changes (written with each change).
public sealed class AlertStore(NpgsqlDataSource dataSource)
{
    // ---- rules and SLOs ----

    // The seed file owns the rows it created until the API changes them: a
    // seeded row is refreshed from the file, and dropped when the file no
    // longer has it; rows the API wrote are left alone.
    public async Task SeedAsync(AlertingSeed seed, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await SeedTableAsync(connection, "alert_rules", seed.Rules.Select(r => (r.Id, JsonSerializer.Serialize(r, AlertingJson.Options))), cancellationToken);
        await SeedTableAsync(connection, "slos", seed.Slos.Select(s => (s.Id, JsonSerializer.Serialize(s, AlertingJson.Options))), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task SeedTableAsync(NpgsqlConnection connection, string table, IEnumerable<(string Id, string Json)> rows, CancellationToken cancellationToken)
    {
        var list = rows.ToList();
        await using var command = new NpgsqlCommand($"""
            WITH seeded AS (
                INSERT INTO {table} (id, definition, source)
                SELECT id, definition, 'seed' FROM unnest($1::text[], $2::jsonb[]) AS s(id, definition)
                ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = now()
                    WHERE {table}.source = 'seed' AND {table}.definition <> excluded.definition
                RETURNING id
            )
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

    // ---- evaluation state ----

    public async Task<Dictionary<string, StoredState>> StatesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT rule_id, state, active_since, last_true_at, last_notified_at, firing_notified, value, error, evaluated_at FROM alert_states");
        var states = new Dictionary<string, StoredState>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var status = new AlertStatus(
                Enum.Parse<AlertState>(reader.GetString(1), ignoreCase: true),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetBoolean(5));
            states[reader.GetString(0)] = new StoredState(status,
                reader.IsDBNull(6) ? null : reader.GetDouble(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetFieldValue<DateTimeOffset>(8));
        }

        return states;
    }

    // One evaluation cycle's outcome in one transaction, on the connection that
    // holds the evaluator's advisory lock: a replica that has lost the lock
    // (its connection broke) cannot write.
    public static async Task SaveEvaluationAsync(
        NpgsqlConnection leaseConnection, string holder, DateTimeOffset now,
        IReadOnlyList<EvaluationResult> results, IReadOnlyList<QueuedNotification> notifications, CancellationToken cancellationToken)
    {
        await using var transaction = await leaseConnection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(leaseConnection, transaction);

        var upsert = new NpgsqlBatchCommand("""
            INSERT INTO alert_states (rule_id, state, active_since, last_true_at, last_notified_at, firing_notified, value, error, evaluated_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::boolean[], $7::float8[], $8::text[], $9::timestamptz[])
            ON CONFLICT (rule_id) DO UPDATE SET
                state = excluded.state, active_since = excluded.active_since, last_true_at = excluded.last_true_at,
                last_notified_at = excluded.last_notified_at, firing_notified = excluded.firing_notified,
                value = excluded.value, error = excluded.error, evaluated_at = excluded.evaluated_at
            """);
        upsert.Parameters.Add(Array(results.Select(r => r.RuleId)));
        upsert.Parameters.Add(Array(results.Select(r => r.Next.State.ToString().ToLowerInvariant())));
        upsert.Parameters.Add(Times(results.Select(r => r.Next.ActiveSince)));
        upsert.Parameters.Add(Times(results.Select(r => r.Next.LastTrueAt)));
        upsert.Parameters.Add(Times(results.Select(r => r.Next.LastNotifiedAt)));
        upsert.Parameters.Add(Array(results.Select(r => r.Next.FiringNotified)));
        upsert.Parameters.Add(new NpgsqlParameter { Value = results.Select(r => (object?)r.Value ?? DBNull.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        upsert.Parameters.Add(new NpgsqlParameter { Value = results.Select(r => (object?)r.Error ?? DBNull.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        upsert.Parameters.Add(Array(results.Select(_ => now.UtcDateTime)));
        batch.BatchCommands.Add(upsert);

        // Rules that no longer exist leave no state behind.
        var prune = new NpgsqlBatchCommand("DELETE FROM alert_states WHERE NOT (rule_id = ANY($1))");
        prune.Parameters.Add(Array(results.Select(r => r.RuleId)));
        batch.BatchCommands.Add(prune);

        var changed = results.Where(r => r.Previous.State != r.Next.State).ToList();
        if (changed.Count > 0)
        {
            var history = new NpgsqlBatchCommand("""
                INSERT INTO alert_history (rule_id, from_state, to_state, value, at)
                SELECT r, f, t, v, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS h(r, f, t, v)
                """);
            history.Parameters.Add(Array(changed.Select(r => r.RuleId)));
            history.Parameters.Add(Array(changed.Select(r => r.Previous.State.ToString().ToLowerInvariant())));
            history.Parameters.Add(Array(changed.Select(r => r.Next.State.ToString().ToLowerInvariant())));
            history.Parameters.Add(new NpgsqlParameter { Value = changed.Select(r => (object?)r.Value ?? DBNull.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
            history.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
            batch.BatchCommands.Add(history);
        }

        if (notifications.Count > 0)
        {
            var queue = new NpgsqlBatchCommand("""
                INSERT INTO alert_notifications (rule_id, receiver, kind, alert)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
                """);
            queue.Parameters.Add(Array(notifications.Select(n => n.RuleId)));
            queue.Parameters.Add(Array(notifications.Select(n => n.Receiver)));
            queue.Parameters.Add(Array(notifications.Select(n => n.Kind)));
            queue.Parameters.Add(new NpgsqlParameter
            {
                Value = notifications.Select(n => JsonSerializer.Serialize(n.Alert, AlertingJson.Options)).ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
            });
            batch.BatchCommands.Add(queue);
        }

        var evaluator = new NpgsqlBatchCommand("""
            INSERT INTO alert_evaluator (id, holder, acquired_at, last_cycle_at, cycles) VALUES (1, $1, $2, $2, 1)
            ON CONFLICT (id) DO UPDATE SET
                acquired_at = CASE WHEN alert_evaluator.holder = excluded.holder THEN alert_evaluator.acquired_at ELSE excluded.acquired_at END,
                cycles = CASE WHEN alert_evaluator.holder = excluded.holder THEN alert_evaluator.cycles + 1 ELSE 1 END,
                holder = excluded.holder, last_cycle_at = excluded.last_cycle_at
            """);
        evaluator.Parameters.Add(new NpgsqlParameter { Value = holder });
        evaluator.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
        batch.BatchCommands.Add(evaluator);

        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static NpgsqlParameter Array<T>(IEnumerable<T> values) => new() { Value = values.ToArray() };

    private static NpgsqlParameter Times(IEnumerable<DateTimeOffset?> values) => new()
    {
        Value = values.Select(v => v is { } t ? (object)t.UtcDateTime : DBNull.Value).ToArray(),
        NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
    };

    public async Task<List<AlertHistoryEntry>> HistoryAsync(string? ruleId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, rule_id, from_state, to_state, value, at FROM alert_history
            WHERE $1::text IS NULL OR rule_id = $1 ORDER BY at DESC, id DESC LIMIT $2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)ruleId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var entries = new List<AlertHistoryEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AlertHistoryEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return entries;
    }

    public async Task<EvaluatorInfo?> EvaluatorAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT holder, acquired_at, last_cycle_at, cycles FROM alert_evaluator WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new EvaluatorInfo(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3))
            : null;
    }

    // ---- silences ----

    public async Task<List<Silence>> SilencesAsync(DateTimeOffset endedAfter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, matchers::text, starts_at, ends_at, comment, created_by, created_at FROM alert_silences
            WHERE ends_at > $1 ORDER BY ends_at DESC LIMIT 500
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = endedAfter.UtcDateTime });
        var silences = new List<Silence>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            silences.Add(new Silence(reader.GetGuid(0), JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(1))!,
                reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4), reader.GetString(5),
                reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return silences;
    }

    // The silence and its audit row (its creator as actor) in one transaction.
    public async Task AddSilenceAsync(Silence silence, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var command = new NpgsqlBatchCommand("""
            INSERT INTO alert_silences (id, matchers, starts_at, ends_at, comment, created_by, created_at)
            VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = silence.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(silence.Matchers) });
        command.Parameters.Add(new NpgsqlParameter { Value = silence.StartsAt.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = silence.EndsAt.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = silence.Comment });
        command.Parameters.Add(new NpgsqlParameter { Value = silence.CreatedBy });
        command.Parameters.Add(new NpgsqlParameter { Value = silence.CreatedAt.UtcDateTime });
        batch.BatchCommands.Add(command);
        batch.BatchCommands.Add(AlertAudit.Record(silence.CreatedBy, AlertAudit.SilenceCreated, silence.Id.ToString(), AlertAudit.Detail(silence)));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    // Ends a silence now, audited as `actor`'s in the same transaction; false
    // when there is no such silence still running.
    public async Task<bool> ExpireSilenceAsync(Guid id, DateTimeOffset now, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var expire = new NpgsqlCommand("""
            WITH running AS (SELECT id, ends_at FROM alert_silences WHERE id = $1 AND ends_at > $2 FOR UPDATE)
            UPDATE alert_silences s SET ends_at = greatest($2, s.starts_at + interval '1 microsecond')
            FROM running r WHERE s.id = r.id
            RETURNING s.matchers::text, s.starts_at, r.ends_at, s.ends_at, s.comment, s.created_by, s.created_at
            """, connection, transaction);
        expire.Parameters.Add(new NpgsqlParameter { Value = id });
        expire.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
        Silence silence;
        DateTimeOffset endedAt;
        await using (var reader = await expire.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return false;
            silence = new Silence(id, JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(0))!,
                reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(4), reader.GetString(5),
                reader.GetFieldValue<DateTimeOffset>(6));
            endedAt = reader.GetFieldValue<DateTimeOffset>(3);
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(AlertAudit.Record(actor, AlertAudit.SilenceExpired, id.ToString(), AlertAudit.Detail(silence, endedAt)));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    // ---- health checks ----

    // Only a newer change replaces what is stored, so a redelivered or
    // reordered message cannot roll a status back.
    public async Task RecordHealthAsync(HealthStatusChanged change, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO health_check_status (check_name, check_group, status, since, error) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (check_name) DO UPDATE SET check_group = excluded.check_group, status = excluded.status,
                since = excluded.since, error = excluded.error
                WHERE health_check_status.since <= excluded.since
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = change.Check });
        command.Parameters.Add(new NpgsqlParameter { Value = change.Group });
        command.Parameters.Add(new NpgsqlParameter { Value = change.Status });
        command.Parameters.Add(new NpgsqlParameter { Value = change.ChangedAt.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)change.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Catches up with transitions the health-probe stored while no consumer was
    // bound to its messages yet (the very first start of a fresh system). Only
    // transitions newer than the newest status already known are read.
    public async Task ReconcileHealthAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO health_check_status (check_name, check_group, status, since, error)
            SELECT DISTINCT ON (check_name) check_name, check_group, status, changed_at, error
            FROM health_transitions
            WHERE changed_at > coalesce((SELECT max(since) FROM health_check_status), '-infinity')
            ORDER BY check_name, changed_at DESC
            ON CONFLICT (check_name) DO UPDATE SET check_group = excluded.check_group, status = excluded.status,
                since = excluded.since, error = excluded.error
                WHERE health_check_status.since < excluded.since
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<List<HealthCheckStatus>> HealthChecksAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT check_name, check_group, status, since, error FROM health_check_status ORDER BY check_name");
        var checks = new List<HealthCheckStatus>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            checks.Add(new HealthCheckStatus(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return checks;
    }

    // ---- notifications ----

    public async Task<List<NotificationRecord>> NotificationsAsync(string? ruleId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, rule_id, receiver, kind, status, attempts, last_error, created_at, delivered_at FROM alert_notifications
            WHERE $1::text IS NULL OR rule_id = $1 ORDER BY id DESC LIMIT $2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)ruleId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var records = new List<NotificationRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new NotificationRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8)));
        }

        return records;
    }
}
