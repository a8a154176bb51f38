using Npgsql;

namespace ContentMax.IntegrationTests;

// A database of one test's own on the shared PostgreSQL server (migrations
// run into it by the test), dropped when the test is done with it.
public sealed class PrivateDatabase : IAsyncDisposable
{
    private readonly NpgsqlConnectionStringBuilder _builder;

    private PrivateDatabase(NpgsqlConnectionStringBuilder builder) => _builder = builder;

    public string ConnectionString => _builder.ConnectionString;

    public static async Task<PrivateDatabase> CreateAsync(AppHostFixture fixture, string prefix) =>
        new(new NpgsqlConnectionStringBuilder(await fixture.ConnectionStringAsync("metricsdb"))
        {
            Database = prefix + Guid.NewGuid().ToString("N")[..10],
        });

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(_builder.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_builder.Database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
