using System.Net.Sockets;
using Npgsql;

namespace ContentMax.Aggregation.Storage;

// Whether a storage failure means the database is unreachable for now (down,
// restarting, out of connections, failing over) rather than that this
// message cannot be stored. Outages are waited out; anything else is retried a
// few times and then parked in the error queue.
public static class DatabaseOutage
{
    public static bool IsOutage(Exception exception) => exception switch
    {
        // Class 08: connection exceptions; 53: insufficient resources; 57P: the
        // server shutting down or starting (admin/crash shutdown, cannot connect
        // now); 40001/40P01: serialization failure and deadlock, which succeed on retry.
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || postgres.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is { } inner && IsOutage(inner),
        SocketException or TimeoutException or IOException => true,
        _ => false,
    };
}
