using Npgsql;

namespace ContentMax.IntegrationTests.Faults;

// Counts what was stored, straight from Postgres: every row and every distinct
// id of one metric name (each stream uses a name of its own).
public sealed class MetricRows(string connectionString)
{
    public async Task<(long Rows, long DistinctIds)> CountAsync(string metric)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*), count(DISTINCT id) FROM metrics WHERE name = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = metric } },
        };
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    // Polls until `expected` rows are stored (tolerating the database being
    // briefly unreachable), then checks nothing more arrives.
    public async Task<(long Rows, long DistinctIds)> WaitForAsync(string metric, long expected, TimeSpan timeout)
    {
        var counted = await Eventually.UntilAsync(async () =>
            {
                try
                {
                    return await CountAsync(metric);
                }
                catch (NpgsqlException)
                {
                    return (-1, -1);
                }
            },
            c => c.Rows >= expected, timeout, c => $"{metric}: {c.Rows} rows stored, {expected} expected", TimeSpan.FromMilliseconds(500));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var settled = await CountAsync(metric);
        Assert.Equal(counted, settled);
        return settled;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<List<object[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var result = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            result.Add(row);
        }

        return result;
    }
}
