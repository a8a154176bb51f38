using System.Text.Json;
using Npgsql;

namespace ContentMax.Alerting.Notifications;

// Silences (alert_silences); creating or ending one is audited in the same transaction.
public sealed class SilenceStore(NpgsqlDataSource dataSource)
{
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
}
