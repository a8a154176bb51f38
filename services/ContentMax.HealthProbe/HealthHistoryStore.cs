using System.Globalization;
using ContentMax.ServiceDefaults;
using ContentMax.Contracts;
using ContentMax.Contracts.Http;
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

    // One page of the transitions in [from, to), newest first, and the cursor of
    // the next page (null on the last one).
    public async Task<(List<HealthTransition> Transitions, HistoryCursor? Next)> ReadPageAsync(
        DateTimeOffset from, DateTimeOffset to, int limit, HistoryCursor? after, CancellationToken cancellationToken)
    {
        var transitions = new List<HealthTransition>(limit);
        HistoryCursor? next = null;
        await using var command = dataSource.CreateCommand("""
            SELECT check_name, check_group, previous_status, status, changed_at, error, id
            FROM health_transitions
            WHERE changed_at >= $1 AND changed_at < $2 AND ($3::timestamptz IS NULL OR (changed_at, id) < ($3, $4))
            ORDER BY changed_at DESC, id DESC
            LIMIT $5
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)after?.ChangedAt.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after?.Id ?? 0L });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        long lastId = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (transitions.Count == limit)
            {
                // One more row than asked for: there is a next page, after the last one returned.
                next = new HistoryCursor(transitions[^1].ChangedAt, lastId);
                break;
            }

            transitions.Add(new HealthTransition(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)), reader.IsDBNull(5) ? null : reader.GetString(5)));
            lastId = reader.GetInt64(6);
        }

        return (transitions, next);
    }

    // Per check, the share of [from, to) it was healthy, of the time its status
    // was known, computed in Postgres: however often a check flapped, no
    // transition list is loaded for it. The status before `from` counts from `from`.
    public async Task<SortedDictionary<string, double>> UptimeAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH starts AS (
                SELECT DISTINCT ON (check_name) check_name, $1::timestamptz AS at, status, 0::bigint AS id
                FROM health_transitions WHERE changed_at < $1
                ORDER BY check_name, changed_at DESC, id DESC
            ),
            segments AS (
                SELECT check_name, at, status, id FROM starts
                UNION ALL
                SELECT check_name, changed_at, status, id FROM health_transitions WHERE changed_at >= $1 AND changed_at < $2
            ),
            spans AS (
                SELECT check_name, status,
                       extract(epoch FROM coalesce(lead(at) OVER (PARTITION BY check_name ORDER BY at, id), $2::timestamptz) - at) AS seconds
                FROM segments
            )
            SELECT check_name,
                   100 * sum(seconds) FILTER (WHERE status = $3) / nullif(sum(seconds) FILTER (WHERE status <> $4), 0)
            FROM spans GROUP BY check_name
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = HealthStatus.Healthy });
        command.Parameters.Add(new NpgsqlParameter { Value = HealthStatus.Unknown });
        var uptime = new SortedDictionary<string, double>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.IsDBNull(1)) uptime[reader.GetString(0)] = Math.Round(Convert.ToDouble(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture), 3);
        }

        return uptime;
    }

    // Deletes the transitions older than the retention; returns how many.
    public async Task<int> TrimAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM health_transitions WHERE changed_at < now() - $1::interval");
        command.Parameters.Add(new NpgsqlParameter { Value = retention });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

// Where a page of the history ended: the last transition's time and id, opaque to callers.
public sealed record HistoryCursor(DateTimeOffset ChangedAt, long Id)
{
    public string Encode() => PageCursor.Encode(ChangedAt.UtcTicks.ToString(CultureInfo.InvariantCulture), Id.ToString(CultureInfo.InvariantCulture));

    public static bool TryDecode(string text, out HistoryCursor? cursor)
    {
        cursor = PageCursor.Decode(text) is [var ticksText, var idText]
            && long.TryParse(ticksText, CultureInfo.InvariantCulture, out var ticks) && long.TryParse(idText, CultureInfo.InvariantCulture, out var id)
            && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
                ? new HistoryCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
        return cursor is not null;
    }
}
