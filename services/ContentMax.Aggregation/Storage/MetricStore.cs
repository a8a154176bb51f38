using System.Text.Json;
using ContentMax.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Storage;

// Writes metrics to Postgres in one statement per batch. Arrays go over the
// wire in binary and are unnested server-side; ON CONFLICT on the metric id
// makes a redelivered or re-sent metric a no-op.
public sealed class MetricStore(NpgsqlDataSource dataSource)
{
    private const string InsertSql = """
        INSERT INTO metrics (id, name, value, ts, url, user_agent, tags)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::timestamptz[], $5::text[], $6::text[], $7::jsonb[])
        ON CONFLICT (id) DO NOTHING
        """;

    public async Task<int> StoreAsync(IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        var n = points.Count;
        var ids = new Guid[n];
        var names = new string[n];
        var values = new double[n];
        var timestamps = new DateTime[n];
        var urls = new string?[n];
        var agents = new string?[n];
        var tags = new string?[n];
        for (var i = 0; i < n; i++)
        {
            var p = points[i];
            ids[i] = p.Id;
            names[i] = p.Metric;
            values[i] = p.Value;
            timestamps[i] = DateTimeOffset.FromUnixTimeMilliseconds(p.Timestamp).UtcDateTime;
            urls[i] = p.Url;
            agents[i] = p.UserAgent;
            tags[i] = p.Tags is { Count: > 0 } t ? JsonSerializer.Serialize(t) : null;
        }

        await using var command = dataSource.CreateCommand(InsertSql);
        command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        command.Parameters.Add(new NpgsqlParameter { Value = timestamps, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = urls, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = agents, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = tags, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
