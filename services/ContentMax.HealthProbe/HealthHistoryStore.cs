using ContentMax.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.HealthProbe;

// Stores every status change in Postgres (health_transitions). Changes wait in
// memory while the database is unreachable (the most interesting transitions
// happen exactly then) and are written, in order, once it is back. The wait
// list is bounded: past MaxPending the oldest changes are dropped and counted.
public sealed class HealthHistoryStore(NpgsqlDataSource dataSource, ILogger<HealthHistoryStore> logger) : BackgroundService
{
    public const int MaxPending = 10_000;
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Queue<HealthStatusChanged> _pending = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private long _dropped;

    public int PendingCount
    {
        get
        {
            lock (_lock) return _pending.Count;
        }
    }

    public void Add(HealthStatusChanged change)
    {
        lock (_lock)
        {
            _pending.Enqueue(change);
            if (_pending.Count > MaxPending)
            {
                _pending.Dequeue();
                _dropped++;
            }
        }

        _signal.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                // The timeout retries what is still queued even when nothing new arrives.
                await _signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken);
                try
                {
                    await FlushAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Whatever failed, the service keeps probing and the changes stay queued.
                    logger.LogDebug("{Count} health transitions wait for the database ({Error}).", PendingCount, ex.GetType().Name);
                    await Task.Delay(RetryDelay, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAsync(CancellationToken stoppingToken)
    {
        while (TryPeek(out var change))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(WriteTimeout);
            await using var command = dataSource.CreateCommand("""
                INSERT INTO health_transitions (check_name, check_group, previous_status, status, changed_at, error)
                VALUES ($1, $2, $3, $4, $5, $6)
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = change.Check });
            command.Parameters.Add(new NpgsqlParameter { Value = change.Group });
            command.Parameters.Add(new NpgsqlParameter { Value = change.PreviousStatus });
            command.Parameters.Add(new NpgsqlParameter { Value = change.Status });
            command.Parameters.Add(new NpgsqlParameter { Value = change.ChangedAt.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)change.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await command.ExecuteNonQueryAsync(timeout.Token);
            RemoveWritten(change);
        }
    }

    private bool TryPeek(out HealthStatusChanged change)
    {
        lock (_lock)
        {
            return _pending.TryPeek(out change!);
        }
    }

    // The head is removed only if it is still the change just written: Add may
    // have dropped it meanwhile to stay within the bound.
    private void RemoveWritten(HealthStatusChanged written)
    {
        long dropped;
        lock (_lock)
        {
            if (_pending.TryPeek(out var head) && ReferenceEquals(head, written)) _pending.Dequeue();
            dropped = _dropped;
            _dropped = 0;
        }

        if (dropped > 0)
        {
            logger.LogWarning("{Count} health transitions were dropped while the database was unreachable (at most {Limit} wait).", dropped, MaxPending);
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
