using System.Text.Json;
using ContentMax.Aggregation.Rollups;
using Microsoft.Extensions.Options;
using Npgsql;

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
    // $1 from, $2 to, $3 HoursFrom, $4 HoursTo, $5 MinutesFrom, $6 MinutesTo,
    // $7 name (or NULL for all), $8 DaysFrom, $9 DaysTo. A day row is read only
    // while its count still equals its hours' (the compactor rebuilds a day a
    // late point has changed); otherwise that day is read from its hours.
    private const string RollupSql = """
        WITH day_hours AS (
            SELECT date_trunc('day', bucket, 'UTC') AS day, name, sum(count) AS count
            FROM metric_rollups_hour
            WHERE bucket >= $8 AND bucket < $9 AND ($7::text IS NULL OR name = $7)
            GROUP BY 1, 2
        ), days AS (
            SELECT d.bucket, d.name, d.count, d.sum, d.min, d.max, d.sketch
            FROM metric_rollups_day d
            JOIN day_hours h ON h.day = d.bucket AND h.name = d.name AND h.count = d.count
            WHERE d.bucket >= $8 AND d.bucket < $9
        )
        SELECT name, count, sum, min, max, (sketch).keys, (sketch).counts, NULL::float8[]
        FROM days
        UNION ALL
        SELECT name, count, sum, min, max, (sketch).keys, (sketch).counts, NULL::float8[]
        FROM metric_rollups_hour h
        WHERE ((bucket >= $3 AND bucket < $8) OR (bucket >= $9 AND bucket < $4)
               OR (bucket >= $8 AND bucket < $9
                   AND NOT EXISTS (SELECT 1 FROM days d WHERE d.bucket = date_trunc('day', h.bucket, 'UTC') AND d.name = h.name)))
          AND ($7::text IS NULL OR name = $7)
        UNION ALL
        SELECT name, count, sum, min, max, (sketch).keys, (sketch).counts, NULL::float8[]
        FROM metric_rollups_minute
        WHERE ((bucket >= $5 AND bucket < $3) OR (bucket >= $4 AND bucket < $6)) AND ($7::text IS NULL OR name = $7)
        UNION ALL
        SELECT name, count(*), sum(value), min(value), max(value), NULL::int[], NULL::bigint[], array_agg(value)
        FROM metrics
        WHERE ((ts >= $1 AND ts < $5) OR (ts >= $6 AND ts < $2)) AND ($7::text IS NULL OR name = $7)
        GROUP BY name
        """;

    private const string ExactSql = """
        SELECT name, sum(value), array_agg(value ORDER BY value)
        FROM metrics
        WHERE ts >= $1 AND ts < $2 AND name = ANY($3)
        GROUP BY name
        """;

    public async Task<SortedDictionary<string, MetricAggregate>> AggregateAsync(
        DateTimeOffset from, DateTimeOffset to, string? metric, CancellationToken cancellationToken)
    {
        var spans = RollupSpans.For(from.UtcDateTime, to.UtcDateTime);
        var merged = new Dictionary<string, MergedAggregate>(StringComparer.Ordinal);

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
                    merged[name] = aggregate = new MergedAggregate();
                }

                aggregate.Add(reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4));
                if (!reader.IsDBNull(5))
                {
                    aggregate.Sketch.Merge(reader.GetFieldValue<int[]>(5), reader.GetFieldValue<long[]>(6));
                }
                else
                {
                    foreach (var value in reader.GetFieldValue<double[]>(7)) aggregate.Sketch.Add(value);
                }
            }
        }

        var result = new SortedDictionary<string, MetricAggregate>(StringComparer.Ordinal);
        var exactNames = merged.Where(kv => kv.Value.Count <= options.Value.ExactLimit).Select(kv => kv.Key).ToArray();
        foreach (var (name, aggregate) in merged)
        {
            if (aggregate.Count > options.Value.ExactLimit) result[name] = aggregate.ToAggregate();
        }

        if (exactNames.Length > 0)
        {
            await using var command = dataSource.CreateCommand(ExactSql);
            command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = exactNames });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result[reader.GetString(0)] = MetricAggregate.FromSorted(reader.GetFieldValue<double[]>(2), reader.GetDouble(1));
            }
        }

        return result;
    }

    private sealed class MergedAggregate
    {
        public LogSketch Sketch { get; } = new();
        public long Count { get; private set; }
        private double _sum;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;

        public void Add(long count, double sum, double min, double max)
        {
            Count += count;
            _sum += sum;
            _min = Math.Min(_min, min);
            _max = Math.Max(_max, max);
        }

        public MetricAggregate ToAggregate()
        {
            long[] ranks = [Count / 2, Count / 2 + 1, Percentiles.Rank(Count, 75), Percentiles.Rank(Count, 95), Percentiles.Rank(Count, 99)];
            var v = Sketch.ValuesAtRanks(ranks, _min, _max);
            var median = Count % 2 == 0 ? (v[0] + v[1]) / 2 : v[1];
            return new MetricAggregate(Count, _sum, _min, _max, _sum / Count, median, v[2], v[3], v[4], Exact: false);
        }
    }

    private const string BreakdownSql = """
        SELECT coalesce(tags ->> $4, ''), sum(value), array_agg(value ORDER BY value) AS sorted
        FROM metrics
        WHERE ts >= $1 AND ts < $2 AND name = $3
        GROUP BY 1
        ORDER BY count(*) DESC
        LIMIT $5
        """;

    // Aggregates of one metric per value of one tag, e.g. api_response_time per
    // endpoint. Rows without the tag are grouped under "".
    public async Task<Dictionary<string, MetricAggregate>> BreakdownAsync(
        DateTimeOffset from, DateTimeOffset to, string metric, string tag, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(BreakdownSql);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = metric });
        command.Parameters.Add(new NpgsqlParameter { Value = tag });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });

        var result = new Dictionary<string, MetricAggregate>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetString(0)] = MetricAggregate.FromSorted(reader.GetFieldValue<double[]>(2), reader.GetDouble(1));
        }

        return result;
    }

    private const string SeriesSql = """
        SELECT date_bin($4::interval, ts, $5) AS bucket, count(*) AS n, avg(value), min(value), max(value),
               array_agg(value ORDER BY value) AS sorted
        FROM metrics
        WHERE ts >= $1 AND ts < $2 AND name = $3
        GROUP BY bucket
        ORDER BY bucket
        """;

    public async Task<List<SeriesBucket>> SeriesAsync(
        DateTimeOffset from, DateTimeOffset to, string metric, TimeSpan step, CancellationToken cancellationToken)
    {
        // Buckets align to whole steps since the Unix epoch, so charts line up across refreshes.
        var origin = DateTime.UnixEpoch;
        await using var command = dataSource.CreateCommand(SeriesSql);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = metric });
        command.Parameters.Add(new NpgsqlParameter { Value = step });
        command.Parameters.Add(new NpgsqlParameter { Value = origin });

        var found = new Dictionary<DateTime, SeriesBucket>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var start = DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc);
                var sorted = reader.GetFieldValue<double[]>(5);
                found[start] = new SeriesBucket(start, reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4),
                    Percentiles.NearestRank(sorted, 95));
            }
        }

        // Every step in the period appears, empty ones with a zero count, so a
        // chart shows gaps as gaps.
        var buckets = new List<SeriesBucket>();
        var first = new DateTime(from.UtcDateTime.Ticks - (from.UtcDateTime.Ticks - origin.Ticks) % step.Ticks, DateTimeKind.Utc);
        for (var t = first; t < to.UtcDateTime; t += step)
        {
            buckets.Add(found.TryGetValue(t, out var b) ? b : new SeriesBucket(t, 0, null, null, null, null));
        }

        return buckets;
    }

    private const string RawSql = """
        SELECT id, name, value, ts, url, user_agent, tags::text
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
                reader.IsDBNull(6) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(6))));
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

// P75 is beyond the seed's fields: Core Web Vitals are assessed at the 75th percentile.
// P75 is beyond the seed's fields: Core Web Vitals are assessed at the 75th
// percentile. Exact says whether the percentiles are exact or from sketches.
public sealed record MetricAggregate(long Count, double Sum, double Min, double Max, double Average, double Median, double P75, double P95, double P99, bool Exact = true)
{
    public static MetricAggregate FromSorted(double[] sorted, double sum) =>
        new(sorted.Length, sum, sorted[0], sorted[^1], sum / sorted.Length,
            Percentiles.Median(sorted), Percentiles.NearestRank(sorted, 75), Percentiles.NearestRank(sorted, 95), Percentiles.NearestRank(sorted, 99));
}

public sealed record SeriesBucket(DateTime Start, long Count, double? Average, double? Min, double? Max, double? P95);

public sealed record RawMetric(Guid Id, string Metric, double Value, long Timestamp, string? Url, string? UserAgent, Dictionary<string, string>? Tags);

// An opaque position in the raw listing: the (timestamp, id) of the last row returned.
public sealed record RawCursor(DateTimeOffset Timestamp, Guid Id)
{
    public string Encode() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Timestamp.ToUnixTimeMilliseconds()}:{Id:N}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, out RawCursor? cursor)
    {
        cursor = null;
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split(':');
            if (parts.Length == 2 && long.TryParse(parts[0], out var ms) && Guid.TryParseExact(parts[1], "N", out var id)
                && ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                cursor = new RawCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), id);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }
}
