using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Evaluation;

public sealed record StoredState(AlertStatus Status, double? Value, string? Error, DateTimeOffset EvaluatedAt);

public sealed record EvaluationResult(string RuleId, AlertStatus Previous, AlertStatus Next, double? Value, string? Error);

// What the evaluator keeps between cycles (alert_states), the transitions it
// has seen (alert_history) and which replica evaluates (alert_evaluator). A
// cycle's outcome, with the notifications it queues, is written in one
// transaction (SaveEvaluationAsync).
public sealed class EvaluationStore(NpgsqlDataSource dataSource)
{
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

        // The outbox rows commit with the states that caused them.
        if (NotificationStore.Queue(notifications) is { } queue) batch.BatchCommands.Add(queue);

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
}
