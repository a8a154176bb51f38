using Npgsql;

namespace ContentMax.Alerting.Evaluation;

// Exactly one aggregation replica evaluates alerts: the one holding a
// session-level Postgres advisory lock. The lock lives as long as the
// connection that took it, so a replica that crashes or loses its database
// connection gives it up at once and another takes over on its next cycle.
public sealed class EvaluatorLease(NpgsqlDataSource dataSource, ILogger<EvaluatorLease> logger) : IAsyncDisposable
{
    // An arbitrary constant that names this lock among the database's advisory locks.
    public const long LockKey = 0x436f6e74_416c7274; // "ContAlrt"

    public string Holder { get; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    private NpgsqlConnection? _connection;

    public bool IsHeld => _connection is not null;

    // Returns the connection that holds the lock (write the cycle's results on
    // it), or null when another replica holds it.
    public async Task<NpgsqlConnection?> AcquireAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            try
            {
                await using var ping = new NpgsqlCommand("SELECT 1", _connection);
                await ping.ExecuteScalarAsync(cancellationToken);
                return _connection;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning("Lost the alert evaluator lock with its database connection ({Error}).", ex.GetType().Name);
                await ReleaseAsync();
            }
        }

        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = LockKey });
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                logger.LogInformation("This replica ({Holder}) now evaluates alert rules.", Holder);
                _connection = connection;
                return connection;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public async Task ReleaseAsync()
    {
        if (_connection is null) return;
        var connection = _connection;
        _connection = null;
        try
        {
            // Closing returns the connection to the pool, which keeps the session
            // (and a session lock) alive: unlock explicitly first.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
                await unlock.ExecuteNonQueryAsync();
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // A broken connection has lost the lock already.
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(ReleaseAsync());
}
