using System.Buffers;
using System.Text.Json;
using ContentMax.Aggregation.Forwarding;
using ContentMax.Aggregation.Rollups;
using ContentMax.Contracts;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Storage;

// One broker message to store: its id (what makes a redelivery a no-op), its
// points, and whether every point's id must be unique (the JSON form other
// services publish) or only those flagged RequireUniqueId.
public sealed record StorageMessage(Guid MessageId, IReadOnlyList<MetricPoint> Points, bool DeduplicateIds);

// Longer than our usual 300 lines: the steps below share one transaction and
// one connection, and reading them in order is how their exactly-once
// guarantees are checked; split, each step would hide what the others rely on.
//
// Writes the messages of one group commit in ONE transaction:
//
//   1. their ids go into stored_messages; a message whose id is already there
//      was stored before (a redelivery) and is skipped whole;
//   2. client-chosen point ids go into metric_ids; a point whose id is already
//      there is skipped (only such points pay for this);
//   3. cumulative points become deltas against their series' last point
//      (cumulative_series, locked per series for the transaction);
//   4. the points are appended to metrics with binary COPY, sorted by name
//      and time (IndexOrderedPoints);
//   5. the minute and hour rollups, built in memory from those points, are
//      merged in with one multi-row upsert per tier (then the tagged minute
//      and hour rollups, for points carrying Aggregation:RollupTagKeys), and
//      the Datadog outbox gets one row.
//
// Another replica storing the same redelivery at the same time waits on the
// message id's unique key until this transaction ends, then skips it.
// Everything that locks rows does so in a fixed order (ids and series sorted,
// rollup rows by bucket and name, tagged ones by name, bucket and dims, the
// tables always in the same order), so concurrent writers queue instead of
// deadlocking; a deadlock would be retried like an outage anyway.
public sealed class MetricStore(NpgsqlDataSource dataSource, IOptions<DatadogOptions> datadog, IOptions<AggregationOptions>? aggregation = null)
{
    private const int RollupShards = 8;
    private int _nextShard;

    // The keys of the tagged rollups, and whether this process has made sure
    // rollup_tag_keys records since when their rows are complete.
    private readonly string[] _tagKeys = aggregation?.Value.TagKeys ?? [];
    private volatile bool _tagKeysRecorded;


    private const string CopySql =
        "COPY metrics (id, name, value, ts, url, user_agent, tags, count, min, max, sketch_keys, sketch_counts) FROM STDIN (FORMAT BINARY)";

    private const string ClaimMessagesSql = """
        INSERT INTO stored_messages (id) SELECT id FROM unnest($1::uuid[]) AS m(id) ORDER BY id
        ON CONFLICT DO NOTHING RETURNING id
        """;

    private const string ClaimIdsSql = """
        INSERT INTO metric_ids (id) SELECT id FROM unnest($1::uuid[]) AS p(id) ORDER BY id
        ON CONFLICT DO NOTHING RETURNING id
        """;

    // Transaction-level advisory locks on cumulative series, in a two-key space
    // of their own ("CmCu" = 1131234165, hash of the series), apart from the
    // single-key locks the services take.
    private const string LockSeriesSql = """
        SELECT count(pg_advisory_xact_lock(1131234165, k))
        FROM (SELECT DISTINCT hashtext(s::text) AS k FROM unnest($1::uuid[]) AS s ORDER BY 1) keys
        """;

    private const string ReadSeriesSql = """
        SELECT series, start_time, last_ts, value, count, min, max, bounds, bucket_counts
        FROM cumulative_series WHERE series = ANY($1)
        """;

    // $1 bucket, $2 name, $3 count, $4 sum, $5 min, $6 max, $7 offset and $8
    // length into the flat $9 keys / $10 counts, $11 distribution count, $12 shard.
    private static string RollupSql(string table) => $"""
        INSERT INTO {table} AS r (bucket, name, shard, count, sum, min, max, sketch, dist_count)
        SELECT b, n, $12, c, s, lo, hi, ROW(($9::int[])[o + 1 : o + l], ($10::bigint[])[o + 1 : o + l])::sketch, dc
        FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::int[], $8::int[], $11::bigint[])
            AS u(b, n, c, s, lo, hi, o, l, dc)
        ORDER BY b, n
        ON CONFLICT (bucket, name, shard) DO UPDATE SET
            count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
            min = least(r.min, EXCLUDED.min), max = greatest(r.max, EXCLUDED.max),
            sketch = sketch_merge(r.sketch, EXCLUDED.sketch), dist_count = r.dist_count + EXCLUDED.dist_count
        """;

    private static readonly string MinuteRollupSql = RollupSql("metric_rollups_minute");
    private static readonly string HourRollupSql = RollupSql("metric_rollups_hour");

    // As RollupSql, with $13 the rows' dims (JSON objects as text); rows are
    // locked in the tagged tables' key order (name, bucket, dims).
    private static string TaggedRollupSql(string table) => $"""
        INSERT INTO {table} AS r (name, bucket, dims, shard, count, sum, min, max, sketch, dist_count)
        SELECT n, b, d::jsonb, $12, c, s, lo, hi, ROW(($9::int[])[o + 1 : o + l], ($10::bigint[])[o + 1 : o + l])::sketch, dc
        FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::int[], $8::int[], $11::bigint[], $13::text[])
            AS u(b, n, c, s, lo, hi, o, l, dc, d)
        ORDER BY n, b, d::jsonb
        ON CONFLICT (name, bucket, dims, shard) DO UPDATE SET
            count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
            min = least(r.min, EXCLUDED.min), max = greatest(r.max, EXCLUDED.max),
            sketch = sketch_merge(r.sketch, EXCLUDED.sketch), dist_count = r.dist_count + EXCLUDED.dist_count
        """;

    private static readonly string TaggedMinuteRollupSql = TaggedRollupSql("metric_rollups_tagged_minute");
    private static readonly string TaggedHourRollupSql = TaggedRollupSql("metric_rollups_tagged_hour");

    // The first write of a key set's tagged rollups records since when they
    // are complete: from the start when nothing was stored before, otherwise
    // from the first bucket no earlier point can be in (points may be up to
    // MetricRules.MaxFuture, 10 minutes, ahead of the clock). Run before the
    // write's own points are copied.
    private const string RecordTagKeysSql = """
        INSERT INTO rollup_tag_keys (keys, since)
        SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM metrics) THEN now() + interval '11 minutes' ELSE '-infinity' END
        ON CONFLICT (keys) DO NOTHING
        """;

    // Bounds and bucket counts of each series are slices of two flat arrays:
    // $9 bounds from $8 (length $10, -1 for none), $12 counts from $11 (one more).
    private const string WriteSeriesSql = """
        INSERT INTO cumulative_series AS c (series, start_time, last_ts, value, count, min, max, bounds, bucket_counts, updated_at)
        SELECT s, st, ts, v, n, lo, hi,
               CASE WHEN l < 0 THEN NULL ELSE ($9::float8[])[o + 1 : o + l] END,
               CASE WHEN l < 0 THEN NULL ELSE ($12::bigint[])[co + 1 : co + l + 1] END,
               now()
        FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::float8[], $5::bigint[], $6::float8[], $7::float8[], $8::int[], $10::int[], $11::int[])
            AS u(s, st, ts, v, n, lo, hi, o, l, co)
        ORDER BY s
        ON CONFLICT (series) DO UPDATE SET
            start_time = EXCLUDED.start_time, last_ts = EXCLUDED.last_ts, value = EXCLUDED.value, count = EXCLUDED.count,
            min = EXCLUDED.min, max = EXCLUDED.max, bounds = EXCLUDED.bounds, bucket_counts = EXCLUDED.bucket_counts,
            updated_at = now()
        """;

    public async Task<StoreResult> StoreAsync(IReadOnlyList<StorageMessage> messages, CancellationToken cancellationToken)
    {
        var unique = messages.DistinctBy(m => m.MessageId).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await ClaimAsync(connection, transaction, ClaimMessagesSql, unique.Select(m => m.MessageId), cancellationToken);
        var stored = unique.Where(m => fresh.Contains(m.MessageId)).ToList();

        // Points are read straight from their messages, and gathered for COPY
        // only into a pooled array (IndexOrderedPoints): a write of 20,000
        // points never makes a large object the GC keeps until its next full
        // collection.
        HashSet<Guid>? claimed = null;
        var wanted = stored.SelectMany(m => m.Points.Where(p => m.DeduplicateIds || p.RequireUniqueId).Select(p => p.Id)).Distinct().ToList();
        if (wanted.Count > 0)
        {
            claimed = await ClaimAsync(connection, transaction, ClaimIdsSql, wanted, cancellationToken);
        }

        var cumulativePoints = stored.SelectMany(m => m.Points).Where(p => p.Cumulative is not null).ToList();
        CumulativeDeltas.Result? cumulative = null;
        if (cumulativePoints.Count > 0)
        {
            cumulative = await ToDeltasAsync(connection, transaction, cumulativePoints, cancellationToken);
        }

        var recordTagKeys = _tagKeys.Length > 0 && !_tagKeysRecorded;
        if (recordTagKeys)
        {
            await using var record = new NpgsqlCommand(RecordTagKeysSql, connection, transaction);
            record.Parameters.Add(new NpgsqlParameter { Value = _tagKeys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        var rollups = new RollupBatch(_tagKeys);
        var duplicates = 0;
        IEnumerable<MetricPoint> ToStore()
        {
            foreach (var message in stored)
            {
                foreach (var point in message.Points)
                {
                    if (point.Cumulative is not null) continue;
                    // The first point with a newly claimed id is stored; any other copy is not.
                    if ((message.DeduplicateIds || point.RequireUniqueId) && !claimed!.Remove(point.Id))
                    {
                        duplicates++;
                        continue;
                    }

                    yield return point;
                }
            }

            foreach (var delta in cumulative?.Deltas ?? []) yield return delta;
        }

        var outbox = datadog.Value.Enabled ? new OutboxWriter() : null;
        using (var rows = new IndexOrderedPoints(ToStore(), stored.Sum(m => m.Points.Count) + (cumulative?.Deltas.Count ?? 0)))
        {
            await CopyAsync(connection, rows.Points, rollups, outbox, cancellationToken);
        }

        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (rollups.PointCount > 0)
            {
                var shard = (short)((uint)Interlocked.Increment(ref _nextShard) % RollupShards);
                batch.BatchCommands.Add(RollupCommand(MinuteRollupSql, [.. rollups.Minutes], shard));
                batch.BatchCommands.Add(RollupCommand(HourRollupSql, rollups.Hours(), shard));
                if (rollups.TaggedMinutes.Count > 0)
                {
                    batch.BatchCommands.Add(RollupCommand(TaggedMinuteRollupSql, [.. rollups.TaggedMinutes], shard));
                    batch.BatchCommands.Add(RollupCommand(TaggedHourRollupSql, rollups.TaggedHours(), shard));
                }

                if (outbox is not null)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO datadog_outbox (points) VALUES ($1)")
                    {
                        Parameters = { new NpgsqlParameter { Value = outbox.ToJson(), NpgsqlDbType = NpgsqlDbType.Jsonb } },
                    });
                }
            }

            if (cumulative is { States.Count: > 0 })
            {
                batch.BatchCommands.Add(WriteSeriesCommand(cumulative.States));
            }

            if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (recordTagKeys) _tagKeysRecorded = true;
        return new StoreResult(rollups.PointCount, unique.Count - fresh.Count, duplicates, cumulative?.Repeats ?? 0);
    }

    // Inserts the ids (sorted, so concurrent writers lock them in one order) and
    // returns those that were not there before.
    private static async Task<HashSet<Guid>> ClaimAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, IEnumerable<Guid> ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        var claimed = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) claimed.Add(reader.GetGuid(0));
        return claimed;
    }

    private async Task<CumulativeDeltas.Result> ToDeltasAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<MetricPoint> points, CancellationToken cancellationToken)
    {
        var series = points.Select(p => p.Cumulative!.Series).Distinct().ToArray();
        await using (var lockSeries = new NpgsqlCommand(LockSeriesSql, connection, transaction))
        {
            lockSeries.Parameters.Add(new NpgsqlParameter { Value = series, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            await lockSeries.ExecuteNonQueryAsync(cancellationToken);
        }

        var states = new Dictionary<Guid, CumulativeState>();
        await using (var read = new NpgsqlCommand(ReadSeriesSql, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = series, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                states[id] = new CumulativeState(
                    id,
                    reader.GetInt64(1),
                    new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
                    reader.GetDouble(3),
                    reader.IsDBNull(4) ? null : reader.GetInt64(4),
                    reader.IsDBNull(5) ? null : reader.GetDouble(5),
                    reader.IsDBNull(6) ? null : reader.GetDouble(6),
                    reader.IsDBNull(7) ? null : reader.GetFieldValue<double[]>(7),
                    reader.IsDBNull(8) ? null : reader.GetFieldValue<long[]>(8));
            }
        }

        return CumulativeDeltas.Apply(points, states, MetricRules.MaxAge);
    }

    // Appends the points to the raw table, adding each to the rollups (and the
    // Datadog outbox) on the way. The COPY starts only once there is a point.
    private static async Task CopyAsync(
        NpgsqlConnection connection, IEnumerable<MetricPoint> points, RollupBatch rollups, OutboxWriter? outbox, CancellationToken cancellationToken)
    {
        var tagsJson = new TagsJson();
        NpgsqlBinaryImporter? importer = null;
        try
        {
            foreach (var p in points)
            {
                importer ??= await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
                outbox?.Add(p);
                await WriteRowAsync(importer, p, rollups, tagsJson, cancellationToken);
            }

            if (importer is not null) await importer.CompleteAsync(cancellationToken);
        }
        finally
        {
            if (importer is not null) await importer.DisposeAsync();
        }
    }

    private static async Task WriteRowAsync(NpgsqlBinaryImporter importer, MetricPoint p, RollupBatch rollups, TagsJson tagsJson, CancellationToken cancellationToken)
    {
        LogSketch? sketch = null;
        if (p.Distribution is { } d)
        {
            sketch = new LogSketch();
            DistributionSketch.AddTo(sketch, d, p.Value);
        }

        rollups.Add(p, sketch);
        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(p.Id, NpgsqlDbType.Uuid, cancellationToken);
        await importer.WriteAsync(p.Metric, NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(p.Value, NpgsqlDbType.Double, cancellationToken);
        await importer.WriteAsync(DateTime.UnixEpoch.AddMilliseconds(p.Timestamp), NpgsqlDbType.TimestampTz, cancellationToken);
        await WriteNullableAsync(importer, p.Url, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(importer, p.UserAgent, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(importer, tagsJson.Of(p.Tags), NpgsqlDbType.Jsonb, cancellationToken);
        if (sketch is null)
        {
            await importer.WriteAsync(1L, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteNullAsync(cancellationToken);
            await importer.WriteNullAsync(cancellationToken);
            await importer.WriteNullAsync(cancellationToken);
            await importer.WriteNullAsync(cancellationToken);
        }
        else
        {
            var distribution = p.Distribution!;
            var (keys, counts) = sketch.ToArrays();
            await importer.WriteAsync(distribution.Count, NpgsqlDbType.Bigint, cancellationToken);
            await WriteNullableAsync(importer, distribution.Min, NpgsqlDbType.Double, cancellationToken);
            await WriteNullableAsync(importer, distribution.Max, NpgsqlDbType.Double, cancellationToken);
            await importer.WriteAsync(keys, NpgsqlDbType.Array | NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(counts, NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellationToken);
        }
    }

    private static ValueTask WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken) where T : class =>
        value is null ? new ValueTask(importer.WriteNullAsync(cancellationToken)) : new ValueTask(importer.WriteAsync(value, type, cancellationToken));

    private static ValueTask WriteNullableAsync(NpgsqlBinaryImporter importer, double? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is { } v ? new ValueTask(importer.WriteAsync(v, type, cancellationToken)) : new ValueTask(importer.WriteNullAsync(cancellationToken));

    private static NpgsqlBatchCommand RollupCommand(string sql, List<RollupRow> rows, short shard)
    {
        var n = rows.Count;
        var buckets = new DateTime[n];
        var names = new string[n];
        var counts = new long[n];
        var sums = new double[n];
        var mins = new double[n];
        var maxes = new double[n];
        var offsets = new int[n];
        var lengths = new int[n];
        var distCounts = new long[n];
        var keys = new List<int>();
        var keyCounts = new List<long>();
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            buckets[i] = row.Bucket;
            names[i] = row.Name;
            counts[i] = row.Count;
            sums[i] = row.Sum;
            mins[i] = row.Min;
            maxes[i] = row.Max;
            distCounts[i] = row.DistCount;
            var (k, c) = row.Sketch.ToArrays();
            offsets[i] = keys.Count;
            lengths[i] = k.Length;
            keys.AddRange(k);
            keyCounts.AddRange(c);
        }

        var command = new NpgsqlBatchCommand(sql)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = buckets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                new NpgsqlParameter { Value = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter { Value = counts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                new NpgsqlParameter { Value = sums, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = mins, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = maxes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = offsets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = lengths, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = keyCounts.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                new NpgsqlParameter { Value = distCounts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                new NpgsqlParameter { Value = shard, NpgsqlDbType = NpgsqlDbType.Smallint },
            },
        };
        if (n > 0 && rows[0].Dims is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Dims!).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        }

        return command;
    }

    private static NpgsqlBatchCommand WriteSeriesCommand(List<CumulativeState> states)
    {
        var bounds = new List<double>();
        var bucketCounts = new List<long>();
        var offsets = new int[states.Count];
        var lengths = new int[states.Count];
        var countOffsets = new int[states.Count];
        for (var i = 0; i < states.Count; i++)
        {
            offsets[i] = bounds.Count;
            countOffsets[i] = bucketCounts.Count;
            if (states[i].Bounds is { } b && states[i].BucketCounts is { } c)
            {
                lengths[i] = b.Length;
                bounds.AddRange(b);
                bucketCounts.AddRange(c);
            }
            else
            {
                lengths[i] = -1;
            }
        }

        return new NpgsqlBatchCommand(WriteSeriesSql)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = states.Select(s => s.Series).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                new NpgsqlParameter { Value = states.Select(s => s.StartTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                new NpgsqlParameter { Value = states.Select(s => DateTime.UnixEpoch.AddMilliseconds(s.LastTimestamp)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                new NpgsqlParameter { Value = states.Select(s => s.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = states.Select(s => s.Count).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                new NpgsqlParameter { Value = states.Select(s => s.Min).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = states.Select(s => s.Max).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = offsets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = bounds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double },
                new NpgsqlParameter { Value = lengths, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = countOffsets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = bucketCounts.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
            },
        };
    }

    // The stored points for Datadog, written as they are copied: metric, Unix
    // seconds, value and tags as "key:value"; a point that stands for many
    // observations also carries their count (its value is their sum).
    private sealed class OutboxWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
        private readonly Utf8JsonWriter _writer;

        public OutboxWriter()
        {
            _writer = new Utf8JsonWriter(_buffer);
            _writer.WriteStartArray();
        }

        public void Add(MetricPoint p)
        {
            _writer.WriteStartObject();
            _writer.WriteString("M", p.Metric);
            _writer.WriteNumber("T", Math.Floor(p.Timestamp / 1000.0));
            _writer.WriteNumber("V", p.Value);
            if (p.Tags is { Count: > 0 } tags)
            {
                _writer.WriteStartArray("G");
                foreach (var (key, value) in tags) _writer.WriteStringValue(key + ":" + value);
                _writer.WriteEndArray();
            }

            if (p.Distribution is { } d) _writer.WriteNumber("C", d.Count);
            _writer.WriteEndObject();
        }

        public string ToJson()
        {
            _writer.WriteEndArray();
            _writer.Flush();
            return System.Text.Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
    }

    // Tags as JSON for the jsonb column. Points of one batch mostly share
    // their tag sets, so the last few serializations are reused.
    private sealed class TagsJson
    {
        private Dictionary<string, string>? _last;
        private string? _lastJson;

        public string? Of(Dictionary<string, string>? tags)
        {
            if (tags is not { Count: > 0 }) return null;
            if (_last is not null && SameTags(_last, tags)) return _lastJson;
            _last = tags;
            return _lastJson = JsonSerializer.Serialize(tags);
        }

        private static bool SameTags(Dictionary<string, string> a, Dictionary<string, string> b)
        {
            if (ReferenceEquals(a, b)) return true;
            if (a.Count != b.Count) return false;
            foreach (var (key, value) in a)
            {
                if (!b.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal)) return false;
            }

            return true;
        }
    }
}

public sealed record StoreResult(int Stored, int RedeliveredMessages, int DuplicateIds, int RepeatedCumulativePoints);
