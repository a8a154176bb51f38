using Npgsql;

namespace ContentMax.IntegrationTests;

// One metric's rollup rows and their packed sketches (sketch_packed), for the
// tests of packing: how many closed rows there are and how many are packed,
// and each row's sketch_packed after an update.
public sealed class PackedSketchRows(NpgsqlDataSource db, string name)
{
    // The compactor's advisory lock (RollupCompactor.LockKey).
    private const long CompactorLock = 4859223968582561891;

    // Holds the compactor's lock until disposed, so that it packs nothing meanwhile.
    public async Task<IAsyncDisposable> HoldCompactorAsync()
    {
        var connection = await db.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({CompactorLock})", connection, transaction))
        {
            await take.ExecuteNonQueryAsync();
        }

        return new CompactorHold(connection, transaction);
    }

    private sealed class CompactorHold(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    public async Task<(long Rows, long Packed)> CountClosedAsync(string table)
    {
        await using var command = db.CreateCommand($"SELECT count(*), count(sketch_packed) FROM {table} WHERE name = $1 AND bucket < now() - interval '62 minutes'");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    // Until every closed row of each table is packed (and there are some).
    public async Task AllClosedPackedAsync(string what, params string[] tables)
    {
        foreach (var table in tables)
        {
            await Eventually.UntilAsync(() => CountClosedAsync(table), c => c.Rows > 0 && c.Packed == c.Rows, TimeSpan.FromSeconds(60),
                c => $"{what}: {c.Packed} of {c.Rows} closed rows of {table} packed", TimeSpan.FromMilliseconds(500));
        }
    }

    // Each updated row's sketch_packed after the update.
    public async Task<List<byte[]?>> UpdateAsync(string table, string set)
    {
        await using var command = db.CreateCommand($"UPDATE {table} SET {set} WHERE name = $1 RETURNING sketch_packed");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        var packedAfter = new List<byte[]?>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) packedAfter.Add(reader.IsDBNull(0) ? null : reader.GetFieldValue<byte[]>(0));
        return packedAfter;
    }
}
