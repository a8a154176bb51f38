using ContentMax.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Health;

public sealed record HealthCheckStatus(string Check, string Group, string Status, DateTimeOffset Since, string? Error);

// The latest status of every health check (health_check_status), which health rules are judged by.
public sealed class HealthStatusStore(NpgsqlDataSource dataSource)
{
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
}
