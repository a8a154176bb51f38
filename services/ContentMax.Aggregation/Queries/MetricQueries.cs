using System.Text.Json;
using ContentMax.Aggregation.Rollups;
using ContentMax.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;
using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// The read side: aggregates per metric name, chart buckets and raw rows.
// Percentiles follow the product's definitions: the median is the middle value
// (or the mean of the two middle values) and pN is the value at nearest rank
// ceil(N/100 × count), computed in integer arithmetic so no float rounding can
// move it by one.
//
// Aggregates over a period merge rollups: whole UTC days from the day table,
// whole hours around them from the hourly table, whole minutes at the edges
// from the per-minute table, and raw rows only for the partial minutes at both
// ends (RollupSpans). A name with at most ExactLimit values in
// the period is answered exactly from raw rows instead; above that its
// percentiles come from the merged sketches, within 0.5% of the exact value.
public sealed class MetricQueries(NpgsqlDataSource dataSource, IOptions<AggregationOptions> options)
{
    // Up to this many single values a group ships them for exact percentiles; above it, a sketch built in SQL.
    public int ExactLimit => options.Value.ExactLimit;

    // $1 from, $2 to, $3 HoursFrom, $4 HoursTo, $5 MinutesFrom, $6 MinutesTo,
    // $7 name (or NULL for all), $8 DaysFrom, $9 DaysTo. A day row is read only
    // while its count still equals its hours' (the compactor rebuilds a day a
    // late point has changed); otherwise that day is read from its hours.
    // Closed hour and day rows ship their packed sketch instead of the arrays
    // (0020_packed_rollup_sketches.sql): sent element by element, the arrays
    // were most of a 24h query's time.
    private const string RollupSql = """
        WITH day_hours AS (
            SELECT date_trunc('day', bucket, 'UTC') AS day, name, sum(count) AS count
            FROM metric_rollups_hour
            WHERE bucket >= $8 AND bucket < $9 AND ($7::text IS NULL OR name = $7)
            GROUP BY 1, 2
        ), days AS (
            SELECT d.bucket, d.name, d.count, d.sum, d.min, d.max, d.sketch, d.dist_count, d.sketch_packed
            FROM metric_rollups_day d
            JOIN day_hours h ON h.day = d.bucket AND h.name = d.name AND h.count = d.count
            WHERE d.bucket >= $8 AND d.bucket < $9
        )
        SELECT name, count, sum, min, max, CASE WHEN sketch_packed IS NULL THEN (sketch).keys END,
               CASE WHEN sketch_packed IS NULL THEN (sketch).counts END, NULL::float8[], dist_count, sketch_packed
        FROM days
        UNION ALL
        SELECT name, count, sum, min, max, CASE WHEN sketch_packed IS NULL THEN (sketch).keys END,
               CASE WHEN sketch_packed IS NULL THEN (sketch).counts END, NULL::float8[], dist_count, sketch_packed
        FROM metric_rollups_hour h
        WHERE ((bucket >= $3 AND bucket < $8) OR (bucket >= $9 AND bucket < $4)
               OR (bucket >= $8 AND bucket < $9
                   AND NOT EXISTS (SELECT 1 FROM days d WHERE d.bucket = date_trunc('day', h.bucket, 'UTC') AND d.name = h.name)))
          AND ($7::text IS NULL OR name = $7)
        UNION ALL
        SELECT name, count, sum, min, max, (sketch).keys, (sketch).counts, NULL::float8[], dist_count, NULL::bytea
        FROM metric_rollups_minute
        WHERE ((bucket >= $5 AND bucket < $3) OR (bucket >= $4 AND bucket < $6)) AND ($7::text IS NULL OR name = $7)
        UNION ALL
        SELECT name, count(*), sum(value), min(value), max(value), NULL::int[], NULL::bigint[], array_agg(value), 0::bigint, NULL::bytea
        FROM metrics
        WHERE ((ts >= $1 AND ts < $5) OR (ts >= $6 AND ts < $2)) AND ($7::text IS NULL OR name = $7) AND sketch_keys IS NULL
        GROUP BY name
        UNION ALL
        SELECT name, count, value, coalesce(min, sketch_value(sketch_keys[1])), coalesce(max, sketch_value(sketch_keys[cardinality(sketch_keys)])),
               sketch_keys, sketch_counts, NULL::float8[], count, NULL::bytea
        FROM metrics
        WHERE ((ts >= $1 AND ts < $5) OR (ts >= $6 AND ts < $2)) AND ($7::text IS NULL OR name = $7) AND sketch_keys IS NOT NULL
        """;

    private const string ExactSql = """
        SELECT name, sum(value), array_agg(value ORDER BY value)
        FROM metrics
        WHERE ts >= $1 AND ts < $2 AND name = ANY($3) AND sketch_keys IS NULL
        GROUP BY name
        """;

    public async Task<SortedDictionary<string, MetricAggregate>> AggregateAsync(
        DateTimeOffset from, DateTimeOffset to, string? metric, CancellationToken cancellationToken)
    {
        var spans = RollupSpans.For(from.UtcDateTime, to.UtcDateTime);
        var merged = new Dictionary<string, AggregateBuilder>(StringComparer.Ordinal);

        await using (var command = dataSource.CreateCommand(RollupSql))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = spans.HoursFrom });
            command.Parameters.Add(new NpgsqlParameter { Value = spans.HoursTo });
            command.Parameters.Add(new NpgsqlParameter { Value = spans.MinutesFrom });
            command.Parameters.Add(new NpgsqlParameter { Value = spans.MinutesTo });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)metric ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = spans.DaysFrom });
            command.Parameters.Add(new NpgsqlParameter { Value = spans.DaysTo });

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var name = reader.GetString(0);
                if (!merged.TryGetValue(name, out var aggregate))
                {
                    merged[name] = aggregate = new AggregateBuilder();
                }

                if (!reader.IsDBNull(7))
                {
                    aggregate.AddValues(reader.GetFieldValue<double[]>(7));
                    continue;
                }

                aggregate.Add(reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetInt64(8));
                if (reader.IsDBNull(9))
                {
                    aggregate.AddSketch(reader.GetFieldValue<int[]>(5), reader.GetFieldValue<long[]>(6));
                    continue;
                }

                using var packed = new PackedSketchColumn(reader, 9);
                aggregate.AddPackedSketch(packed.Span);
            }
        }

        // Names with few enough values, all of them single observations, are
        // answered exactly from their raw rows.
        var result = new SortedDictionary<string, MetricAggregate>(StringComparer.Ordinal);
        var exactNames = new List<string>();
        foreach (var (name, aggregate) in merged)
        {
            if (aggregate.Count <= options.Value.ExactLimit && aggregate.DistCount == 0) exactNames.Add(name);
            else result[name] = aggregate.ToAggregate();
        }

        if (exactNames.Count > 0)
        {
            await using var command = dataSource.CreateCommand(ExactSql);
            command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = exactNames.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result[reader.GetString(0)] = Percentiles.Aggregate(reader.GetFieldValue<double[]>(2), reader.GetDouble(1));
            }
        }

        return result;
    }

    // From `singles (g, value)`: one row per group of the shape Observations
    // reads; groups of more than `limit` values as sketches.
    internal static string GroupedSingles(string limit) => $"""
        , sizes AS (SELECT g, count(*) AS n, sum(value) AS s, min(value) AS lo, max(value) AS hi FROM singles GROUP BY g),
        small AS (
            SELECT singles.g, array_agg(value ORDER BY value) AS vals
            FROM singles JOIN sizes USING (g) WHERE sizes.n <= {limit} GROUP BY singles.g
        ),
        big AS (
            SELECT g, array_agg(k ORDER BY k) AS keys, array_agg(c ORDER BY k) AS counts
            FROM (SELECT singles.g, sketch_key(value) AS k, count(*) AS c
                  FROM singles JOIN sizes USING (g) WHERE sizes.n > {limit} GROUP BY singles.g, k) keyed
            GROUP BY g
        )
        SELECT sizes.g, sizes.n, sizes.s, sizes.lo, sizes.hi, big.keys, big.counts, small.vals
        FROM sizes LEFT JOIN small USING (g) LEFT JOIN big USING (g)
        """;

    private const string RawSql = """
        SELECT id, name, value, ts, url, user_agent, tags::text, count, min, max
        FROM metrics
        WHERE ts >= $1 AND ts < $2 AND ($3::text IS NULL OR name = $3)
          AND ($4::timestamptz IS NULL OR (ts, id) < ($4, $5))
        ORDER BY ts DESC, id DESC
        LIMIT $6
        """;

    public async Task<(List<RawMetric> Items, RawCursor? Next)> RawAsync(
        DateTimeOffset from, DateTimeOffset to, string? metric, RawCursor? after, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(RawSql);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)metric ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is null ? DBNull.Value : after.Timestamp.UtcDateTime, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after?.Id ?? Guid.Empty, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });

        var items = new List<RawMetric>(limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var ts = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc));
            items.Add(new RawMetric(
                reader.GetGuid(0),
                reader.GetString(1),
                reader.GetDouble(2),
                ts.ToUnixTimeMilliseconds(),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(6)),
                reader.GetInt64(7),
                reader.IsDBNull(8) ? null : reader.GetDouble(8),
                reader.IsDBNull(9) ? null : reader.GetDouble(9)));
        }

        RawCursor? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            var last = items[^1];
            next = new RawCursor(DateTimeOffset.FromUnixTimeMilliseconds(last.Timestamp), last.Id);
        }

        return (items, next);
    }
}

// An opaque position in the raw listing: the (timestamp, id) of the last row returned.
public sealed record RawCursor(DateTimeOffset Timestamp, Guid Id)
{
    public string Encode() => PageCursor.Encode(Timestamp.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), Id.ToString("N"));

    public static bool TryDecode(string text, out RawCursor? cursor)
    {
        cursor = PageCursor.Decode(text) is [var msText, var idText]
            && long.TryParse(msText, out var ms) && Guid.TryParseExact(idText, "N", out var id)
            && ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                ? new RawCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), id)
                : null;
        return cursor is not null;
    }
}
