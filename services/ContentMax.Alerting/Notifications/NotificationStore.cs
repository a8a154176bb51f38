using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Notifications;

public sealed record QueuedNotification(string RuleId, string Receiver, string Kind, AlertSnapshot Alert);

// The notification outbox (alert_notifications): the evaluator queues rows in
// its cycle's transaction (Queue), AlertNotifier delivers them, and the API
// lists them.
public sealed class NotificationStore(NpgsqlDataSource dataSource)
{
    // The rows of one cycle's notifications, for the batch that saves the
    // cycle (EvaluationStore.SaveEvaluationAsync); null when there are none.
    public static NpgsqlBatchCommand? Queue(IReadOnlyList<QueuedNotification> notifications)
    {
        if (notifications.Count == 0) return null;
        var queue = new NpgsqlBatchCommand("""
            INSERT INTO alert_notifications (rule_id, receiver, kind, alert)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
            """);
        queue.Parameters.Add(new NpgsqlParameter { Value = notifications.Select(n => n.RuleId).ToArray() });
        queue.Parameters.Add(new NpgsqlParameter { Value = notifications.Select(n => n.Receiver).ToArray() });
        queue.Parameters.Add(new NpgsqlParameter { Value = notifications.Select(n => n.Kind).ToArray() });
        queue.Parameters.Add(new NpgsqlParameter
        {
            Value = notifications.Select(n => JsonSerializer.Serialize(n.Alert, AlertingJson.Options)).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        return queue;
    }

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
