using Npgsql;

namespace ContentMax.HealthProbe.Checks;

// A real query on metricsdb, not just an open socket.
public sealed class DatabaseCheck(NpgsqlDataSource dataSource) : IHealthProbeCheck
{
    public string Name => "database";

    public string Group => CheckGroups.Database;

    public async Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations");
        await command.ExecuteScalarAsync(cancellationToken);
        return ProbeOutcome.Success;
    }
}
