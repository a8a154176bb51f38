using System.Collections.Concurrent;
using ContentMax.Contracts;
using Npgsql;

namespace ContentMax.HealthProbe;

// Stores every status change in Postgres. Changes wait in memory (bounded)
// while the database is down — the most interesting transitions happen exactly
// then — and are written as soon as it is back.
public sealed class HealthHistoryStore(NpgsqlDataSource dataSource, ILogger<HealthHistoryStore> logger) : BackgroundService
{
    private const int MaxPending = 10_000;
    private readonly ConcurrentQueue<HealthStatusChanged> _pending = new();
    private readonly SemaphoreSlim _signal = new(0);

    public void Add(HealthStatusChanged change)
    {
        _pending.Enqueue(change);
        while (_pending.Count > MaxPending && _pending.TryDequeue(out _))
        {
        }

        _signal.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken);
                await FlushAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
            {
                logger.LogDebug("Health transitions wait for the database: {Error}", ex.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task FlushAsync(CancellationToken stoppingToken)
    {
        while (_pending.TryPeek(out var change))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var command = dataSource.CreateCommand("""
                INSERT INTO health_transitions (check_name, check_group, previous_status, status, changed_at, error)
                VALUES ($1, $2, $3, $4, $5, $6)
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = change.Check });
            command.Parameters.Add(new NpgsqlParameter { Value = change.Group });
            command.Parameters.Add(new NpgsqlParameter { Value = change.PreviousStatus });
            command.Parameters.Add(new NpgsqlParameter { Value = change.Status });
            command.Parameters.Add(new NpgsqlParameter { Value = change.ChangedAt.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)change.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await command.ExecuteNonQueryAsync(timeout.Token);
            _pending.TryDequeue(out _);
        }
    }

    public sealed record Transition(string Check, string Group, string PreviousStatus, string Status, DateTimeOffset ChangedAt, string? Error);

    // Transitions in [from, to), plus each check's last status before `from`.
    public async Task<(List<Transition> Transitions, Dictionary<string, string> Before)> ReadAsync(
        DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var transitions = new List<Transition>();
        await using (var command = dataSource.CreateCommand("""
            SELECT check_name, check_group, previous_status, status, changed_at, error
            FROM health_transitions WHERE changed_at >= $1 AND changed_at < $2 ORDER BY changed_at, id
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                transitions.Add(new Transition(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)), reader.IsDBNull(5) ? null : reader.GetString(5)));
            }
        }

        var before = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var command = dataSource.CreateCommand("""
            SELECT DISTINCT ON (check_name) check_name, status FROM health_transitions
            WHERE changed_at < $1 ORDER BY check_name, changed_at DESC, id DESC
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                before[reader.GetString(0)] = reader.GetString(1);
            }
        }

        return (transitions, before);
    }
}
