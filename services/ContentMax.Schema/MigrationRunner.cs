using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ContentMax.Schema;

// Applies embedded Migrations/NNNN_name.sql files in order, each in its own
// transaction, recording them in schema_migrations. A Postgres advisory lock
// makes concurrent runs (several replicas, a restart mid-run) wait their turn.
// A migration that was edited after being applied is an error, not a re-run.
public sealed class MigrationRunner(string connectionString, ILogger logger)
{
    private const long AdvisoryLockKey = 0x436D_5363_6865_6D61; // "CmSchema"

    // Applies every migration not yet applied, or only those up to version
    // `upTo` (the upgrade test builds an older schema that way).
    public async Task<int> RunAsync(CancellationToken cancellationToken, int? upTo = null)
    {
        await EnsureDatabaseAsync(cancellationToken);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);

            var applied = new Dictionary<int, string>();
            await using (var command = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied[reader.GetInt32(0)] = reader.GetString(1);
                }
            }

            var count = 0;
            foreach (var migration in Migration.LoadAll().Where(m => upTo is null || m.Version <= upTo))
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Name} was changed after it was applied. Add a new migration instead of editing an old one.");
                    }

                    continue;
                }

                logger.LogInformation("Applying migration {Migration}", migration.Name);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
                await using (var record = new NpgsqlCommand(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", connection, transaction))
                {
                    record.Parameters.Add(new NpgsqlParameter { Value = migration.Version });
                    record.Parameters.Add(new NpgsqlParameter { Value = migration.Name });
                    record.Parameters.Add(new NpgsqlParameter { Value = migration.Checksum });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                count++;
            }

            return count;
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    // Local PostgreSQL starts with only the 'postgres' database; a container
    // server gets metricsdb from the AppHost. Creating it here covers both.
    private async Task EnsureDatabaseAsync(CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var database = target.Database ?? throw new InvalidOperationException("The metricsdb connection string names no database.");
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };

        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = database });
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            logger.LogInformation("Creating database {Database}", database);
            var quoted = "\"" + database.Replace("\"", "\"\"") + "\"";
            try
            {
                await ExecuteAsync(connection, null, $"CREATE DATABASE {quoted}", cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                // Another runner created it first.
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed record Migration(int Version, string Name, string Sql, string Checksum)
    {
        public static IEnumerable<Migration> LoadAll()
        {
            var assembly = Assembly.GetExecutingAssembly();
            return assembly.GetManifestResourceNames()
                .Where(n => n.StartsWith("Migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                .Select(n =>
                {
                    var name = n["Migrations/".Length..^".sql".Length];
                    var version = int.Parse(name.Split('_', 2)[0], System.Globalization.CultureInfo.InvariantCulture);
                    using var stream = assembly.GetManifestResourceStream(n)!;
                    using var reader = new StreamReader(stream, Encoding.UTF8);
                    var sql = reader.ReadToEnd().Replace("\r\n", "\n");
                    return new Migration(version, name, sql, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql))));
                })
                .OrderBy(m => m.Version);
        }
    }
}
