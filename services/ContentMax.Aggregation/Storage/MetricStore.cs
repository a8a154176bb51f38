using System.Text.Json;
using ContentMax.Aggregation.Forwarding;
using ContentMax.Contracts;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Storage;

// Writes a batch of metrics and its rollups in ONE statement. Arrays go over
// the wire in binary and are unnested server-side. ON CONFLICT on (id, ts) makes
// a redelivered or re-sent metric a no-op (the raw table is partitioned by ts,
// so its key must hold ts; points flagged RequireUniqueId are also matched on
// their id alone, under a per-id advisory lock so concurrent writers cannot
// both store one). Because the rollups are built only from the rows that
// INSERT ... RETURNING reports as new, a redelivery cannot count (or forward
// to Datadog) anything twice either. Rollup rows are written in
// (bucket, name) order so concurrent consumers lock them in the same order, and
// each write picks one of RollupShards rows per (bucket, name), so concurrent
// consumers rarely wait on each other's row locks; queries merge the shards.
public sealed class MetricStore(NpgsqlDataSource dataSource, IOptions<DatadogOptions> datadog)
{
    private const int RollupShards = 8;
    private int _nextShard;

    private const string RollupColumns = """
        sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
        """;

    private const string RollupMerge = """
        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
        min = least(r.min, EXCLUDED.min), max = greatest(r.max, EXCLUDED.max),
        sketch = sketch_merge(r.sketch, EXCLUDED.sketch)
        """;

    private const string InsertSql = $"""
        WITH inserted AS (
            INSERT INTO metrics (id, name, value, ts, url, user_agent, tags)
            SELECT id, name, value, ts, url, user_agent, tags
            FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::timestamptz[], $5::text[], $6::text[], $7::jsonb[], $10::bool[])
                AS p(id, name, value, ts, url, user_agent, tags, unique_id)
            WHERE NOT (p.unique_id AND EXISTS (
                SELECT 1 FROM metrics m WHERE m.id = p.id AND m.ts >= p.ts - interval '8 days' AND m.ts <= p.ts + interval '8 days'))
            ON CONFLICT (id, ts) DO NOTHING
            RETURNING name, ts, value, tags
        ), outbox AS (
            -- Points for Datadog, only when forwarding is on ($9): one row per batch.
            INSERT INTO datadog_outbox (points)
            SELECT jsonb_agg(jsonb_build_object('M', name, 'T', floor(extract(epoch FROM ts))::bigint, 'V', value,
                       'G', (SELECT array_agg(key || ':' || value) FROM jsonb_each_text(tags))))
            FROM inserted
            WHERE $9
            HAVING count(*) > 0
        ), keyed AS (
            SELECT name, date_trunc('minute', ts) AS minute, sketch_key(value) AS key,
                   count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
            FROM inserted
            GROUP BY 1, 2, 3
        ), per_minute AS (
            INSERT INTO metric_rollups_minute AS r (bucket, name, shard, count, sum, min, max, sketch)
            SELECT minute, name, $8, {RollupColumns}
            FROM keyed
            GROUP BY minute, name
            ORDER BY minute, name
            ON CONFLICT (bucket, name, shard) DO UPDATE SET {RollupMerge}
        ), per_hour AS (
            INSERT INTO metric_rollups_hour AS r (bucket, name, shard, count, sum, min, max, sketch)
            SELECT hour, name, $8, {RollupColumns}
            FROM (
                SELECT date_trunc('hour', minute) AS hour, name, key,
                       sum(n)::bigint AS n, sum(total) AS total, min(lo) AS lo, max(hi) AS hi
                FROM keyed
                GROUP BY 1, 2, 3
            ) hourly
            GROUP BY hour, name
            ORDER BY hour, name
            ON CONFLICT (bucket, name, shard) DO UPDATE SET {RollupMerge}
        )
        SELECT count(*)::int FROM inserted
        """;

    // Transaction-level advisory locks in a two-key space of their own
    // ("CmId", hash of the id), apart from the services' single-key locks.
    private const string UniqueIdLocksSql = """
        SELECT count(pg_advisory_xact_lock(1131235684, k))
        FROM (SELECT DISTINCT hashtext(id::text) AS k FROM unnest($1::uuid[]) AS id ORDER BY 1) keys
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
        var uniqueIds = new bool[n];
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
            uniqueIds[i] = p.RequireUniqueId;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = uniqueIds.Contains(true) ? await connection.BeginTransactionAsync(cancellationToken) : null;
        if (transaction is not null)
        {
            // Points that must be unique on their id alone cannot rely on the
            // key (id, ts): two writers storing re-sends of one point at once
            // would each see no earlier copy. Each takes a lock per id first,
            // in id order, and the insert's own snapshot then sees what the
            // other committed. Only writes carrying such points pay for this.
            await using var lockIds = new NpgsqlCommand(UniqueIdLocksSql, connection, transaction);
            lockIds.Parameters.Add(new NpgsqlParameter { Value = ids.Where((_, i) => uniqueIds[i]).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            await lockIds.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(InsertSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        command.Parameters.Add(new NpgsqlParameter { Value = timestamps, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = urls, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = agents, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = tags, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)((uint)Interlocked.Increment(ref _nextShard) % RollupShards), NpgsqlDbType = NpgsqlDbType.Smallint });
        command.Parameters.Add(new NpgsqlParameter { Value = datadog.Value.Enabled, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(new NpgsqlParameter { Value = uniqueIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean });
        var inserted = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (transaction is not null) await transaction.CommitAsync(cancellationToken);
        return inserted;
    }
}
