using ContentMax.Aggregation.Rollups;
using ContentMax.Contracts.Http;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Queries;

// The explorer's read side: one metric's observations, filtered by tags,
// grouped by up to two tag keys and, for charts, by step.
// (Over 300 lines: the plan's checks, since when, counts and stale quarters,
// and the observations SQL that reads by that plan must agree, so they stay
// together.)
//
// Where it reads from (ExplorerPlan): when every filter and group-by key is
// one of Aggregation:RollupTagKeys, whole days, hours, quarter-hours and
// minutes (as far as their rows fit the chart step) come from the tagged rollups and only the
// partial minutes at the edges from raw rows;
// otherwise everything comes from raw rows, filtered and grouped in SQL.
// Tagged rollups leave out points that carry none of the rollup keys, so they
// are used only when those points cannot match (an equals filter is given) or
// there are none in the period (the untagged and tagged rollups count the
// same), and only for periods since the key set's tagged rollups began
// (rollup_tag_keys). A metric with at most ExactLimit observations in the
// period is read from raw rows, so its groups are exact (as GET /api/metrics
// answers small names); above that every group's percentiles come from the
// merged sketches (within 0.5%), however small the group: re-reading a small
// group's raw rows would mean reading all of the metric's rows in the period,
// as tags are not indexed.
public sealed class ExplorerQueries(NpgsqlDataSource dataSource, IOptions<AggregationOptions> options)
{
    // A group-by found more distinct groups in the period than MaxGroups.
    public sealed class TooManyGroupsException(int maxGroups) : Exception($"more than {maxGroups} groups")
    {
        public int MaxGroups { get; } = maxGroups;
    }

    // One (group, step) cell of observations; Start is the step's start, or
    // DateTime.MinValue for a whole-period breakdown.
    public sealed record Cells(Dictionary<(string Group, DateTime Start), GroupObservations> ByCell, bool FromRollups);

    private static readonly DateTime NoStep = DateTime.SpecifyKind(DateTime.UnixEpoch, DateTimeKind.Utc);

    // Observations of one metric in [from, to), per group and per step (null step: one cell per group).
    public async Task<Cells> ReadAsync(DateTime from, DateTime to, string metric, ExplorerQuery query, TimeSpan? step, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(from, to, metric, query, step, cancellationToken);
        var cells = new Dictionary<(string, DateTime), GroupObservations>();
        await ReadIntoAsync(cells, metric, query, step, plan, cancellationToken);
        return new Cells(cells, plan.Rollups.Count > 0);
    }

    // Stops reading, and throws, at the first group beyond MaxGroups.
    private async Task ReadIntoAsync(
        Dictionary<(string, DateTime), GroupObservations> cells, string metric, ExplorerQuery query, TimeSpan? step,
        ExplorerPlan plan, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var groups = new HashSet<string>(StringComparer.Ordinal);
        var sql = new SqlBuilder();
        var text = ObservationsSql(sql, metric, query, step, plan, settings.ExactLimit);
        await using var command = dataSource.CreateCommand(text);
        command.Parameters.AddRange(sql.Parameters.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var group = reader.GetString(0);
            if (groups.Add(group) && groups.Count > settings.MaxGroups) throw new TooManyGroupsException(settings.MaxGroups);
            var start = step is null ? DateTime.MinValue : DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
            if (!cells.TryGetValue((group, start), out var cell)) cells[(group, start)] = cell = new GroupObservations(settings.ExactLimit);
            Read(reader, 2, cell);
        }
    }

    // Columns from `first`: count, sum, min, max, keys, counts, sorted values,
    // dist_count, packed sketch (instead of keys and counts, when present).
    private static void Read(NpgsqlDataReader reader, int first, GroupObservations cell)
    {
        if (!reader.IsDBNull(first + 6))
        {
            cell.AddValues(reader.GetFieldValue<double[]>(first + 6));
            return;
        }

        var (count, sum, min, max, distCount) = (reader.GetInt64(first), reader.GetDouble(first + 1), reader.GetDouble(first + 2),
            reader.GetDouble(first + 3), reader.GetInt64(first + 7));
        if (reader.IsDBNull(first + 8))
        {
            cell.AddSketch(count, sum, min, max, reader.GetFieldValue<int[]>(first + 4), reader.GetFieldValue<long[]>(first + 5), distCount);
            return;
        }

        using var packed = new PackedSketchColumn(reader, first + 8);
        cell.AddPackedSketch(count, sum, min, max, packed.Span, distCount);
    }

    // Tag keys with their most frequent values (by observations) in the period,
    // from raw rows. Ranked and cut in SQL: however many distinct values a tag
    // has (a user id, a URL), only $4 per key leave the database, with how many
    // there were in all.
    private const string TagsSql = """
        SELECT key, value, n, distinct_values FROM (
            SELECT t.key, t.value, sum(m.count)::bigint AS n,
                   row_number() OVER (PARTITION BY t.key ORDER BY sum(m.count) DESC, t.value COLLATE "C") AS rank,
                   count(*) OVER (PARTITION BY t.key) AS distinct_values
            FROM metrics m CROSS JOIN LATERAL jsonb_each_text(m.tags) AS t(key, value)
            WHERE m.ts >= $1 AND m.ts < $2 AND m.name = $3 AND m.tags IS NOT NULL
            GROUP BY t.key, t.value
        ) ranked
        WHERE rank <= $4
        ORDER BY key COLLATE "C", rank
        """;

    public async Task<List<TagKey>> TagsAsync(DateTime from, DateTime to, string metric, int valuesPerKey, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(TagsSql);
        command.Parameters.Add(new NpgsqlParameter { Value = from });
        command.Parameters.Add(new NpgsqlParameter { Value = to });
        command.Parameters.Add(new NpgsqlParameter { Value = metric });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)valuesPerKey });
        var keys = new List<TagKey>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetString(0);
            if (keys.Count == 0 || keys[^1].Key != key) keys.Add(new TagKey(key, [], reader.GetInt64(3) > valuesPerKey));
            keys[^1].Values.Add(new TagValue(reader.GetString(1), reader.GetInt64(2)));
        }

        return keys;
    }


    private async Task<ExplorerPlan> PlanAsync(DateTime from, DateTime to, string metric, ExplorerQuery query, TimeSpan? step, CancellationToken cancellationToken)
    {
        var tagKeys = options.Value.TagKeys;
        var raw = ExplorerPlan.RawOnly(from, to);
        if (tagKeys.Length == 0 || !query.Keys.Any() || query.Keys.Any(k => !tagKeys.Contains(k, StringComparer.Ordinal))) return raw;
        var plan = ExplorerPlan.For(from, to, step);
        if (plan.Rollups.Count == 0) return raw;

        // Three things decide: since when the tagged rollups of this key set
        // are complete; how many observations the metric has in the rollup
        // spans (a metric with at most ExactLimit is read from raw rows, exact,
        // as GET /api/metrics does); and, when points without any rollup key
        // could match (no equals filter), whether there are any: the untagged
        // rollups then count more than the tagged ones.
        var sql = new SqlBuilder();
        var keys = sql.Add(tagKeys, NpgsqlDbType.Array | NpgsqlDbType.Text);
        var name = sql.Add(metric, NpgsqlDbType.Text);
        var untagged = new List<string>();
        var tagged = new List<string>();
        // Counted over the same period at the coarsest tier (a chart of
        // 15-minute steps reads minute rows, but its whole hours are counted
        // from hour rows).
        foreach (var (table, f, t) in ExplorerPlan.For(plan.Rollups.Min(r => r.From), plan.Rollups.Max(r => r.To), null).Rollups)
        {
            var (pf, pt) = (sql.Add(f, NpgsqlDbType.TimestampTz), sql.Add(t, NpgsqlDbType.TimestampTz));
            // Days are counted from their hours (a day row may be stale).
            var (untaggedTable, taggedTable) = table == ExplorerPlan.TaggedMinuteTable
                ? ("metric_rollups_minute", ExplorerPlan.TaggedMinuteTable)
                : ("metric_rollups_hour", ExplorerPlan.TaggedHourTable);
            untagged.Add($"(SELECT coalesce(sum(count), 0) FROM {untaggedTable} WHERE name = {name} AND bucket >= {pf} AND bucket < {pt})");
            tagged.Add($"(SELECT coalesce(sum(count), 0) FROM {taggedTable} WHERE name = {name} AND bucket >= {pf} AND bucket < {pt})");
        }

        var needsAll = !query.Filters.Any(f => !f.Negated);
        var firstRollup = sql.Add(plan.Rollups.Min(r => r.From), NpgsqlDbType.TimestampTz);
        await using var command = dataSource.CreateCommand($"""
            SELECT (SELECT since <= {firstRollup} FROM rollup_tag_keys WHERE keys = {keys}),
                   ({string.Join(" + ", untagged)})::bigint,
                   {(needsAll ? $"({string.Join(" + ", tagged)})::bigint" : "NULL::bigint")}
            """);
        command.Parameters.AddRange(sql.Parameters.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var complete = !reader.IsDBNull(0) && reader.GetBoolean(0);
        var all = reader.GetInt64(1);
        var large = all > options.Value.ExactLimit;
        var noneMissing = reader.IsDBNull(2) || reader.GetInt64(2) == all;
        if (!(complete && large && noneMissing)) return raw;
        return plan.Rollups.Any(r => r.Table == ExplorerPlan.TaggedQuarterTable)
            ? plan.WithStaleQuarters(await StaleQuartersAsync(metric, plan, cancellationToken))
            : plan;
    }

    // Quarter rows count only while the metric's untagged minute count for
    // their quarter is still the one they were built from: a late point
    // changes it until the compactor rebuilds them. Those quarters (and any
    // not yet built) are read from their minutes instead; found here, before
    // the observations query, so that query reads their minutes by constant
    // ranges (partition pruning and the key index), never every minute row.
    private const string StaleQuartersSql = """
        WITH sources AS (
            SELECT date_bin('15 minutes', bucket, timestamptz 'epoch') AS quarter, sum(count) AS count
            FROM metric_rollups_minute WHERE name = $1 AND bucket >= $2 AND bucket < $3
            GROUP BY 1
        ), built AS (
            SELECT DISTINCT bucket, source_count FROM metric_rollups_tagged_quarter
            WHERE name = $1 AND bucket >= $2 AND bucket < $3
        )
        SELECT quarter FROM sources s
        WHERE NOT EXISTS (SELECT 1 FROM built b WHERE b.bucket = s.quarter AND b.source_count = s.count)
        ORDER BY quarter
        """;

    private async Task<List<DateTime>> StaleQuartersAsync(string metric, ExplorerPlan plan, CancellationToken cancellationToken)
    {
        var quarters = plan.Rollups.Where(r => r.Table == ExplorerPlan.TaggedQuarterTable).ToList();
        await using var command = dataSource.CreateCommand(StaleQuartersSql);
        command.Parameters.Add(new NpgsqlParameter { Value = metric });
        command.Parameters.Add(new NpgsqlParameter { Value = quarters.Min(r => r.From) });
        command.Parameters.Add(new NpgsqlParameter { Value = quarters.Max(r => r.To) });
        var stale = new List<DateTime>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) stale.Add(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc));
        return stale;
    }

    // The observations query: rows of (group json, step start, count, sum,
    // min, max, keys, counts, sorted values, dist_count, packed sketch). Raw
    // single values are grouped in SQL; a cell of at most exactLimit ships its
    // sorted values, a larger one its sketch, built in SQL. Closed quarter, hour
    // and day rows ship their packed sketch instead of the arrays (sent element
    // by element, the arrays were most of a long chart's time).
    internal static string ObservationsSql(SqlBuilder sql, string metric, ExplorerQuery query, TimeSpan? step, ExplorerPlan plan, int exactLimit)
    {
        var name = sql.Add(metric, NpgsqlDbType.Text);
        string Start(string column) => step is null
            ? "'epoch'::timestamptz"
            : $"date_bin({sql.Add(step.Value, NpgsqlDbType.Interval)}, {column}, {sql.Add(NoStep, NpgsqlDbType.TimestampTz)})";

        var rawGroup = GroupSql(sql, "tags", query.GroupBy);
        var rawWhere = $"name = {name} AND {Spans(sql, "ts", plan.Raw)} AND {FilterSql(sql, "tags", query.Filters)}";
        var limit = sql.Add((long)exactLimit, NpgsqlDbType.Bigint);
        var rawStart = Start("ts");

        // Day rows count only while they still hold all of their hours (as
        // metric_rollups_day); the hours of any other day are read instead.
        var days = plan.Rollups.FirstOrDefault(r => r.Table == ExplorerPlan.TaggedDayTable);
        var dayCtes = "";
        if (days.Table is not null)
        {
            var (df, dt) = (sql.Add(days.From, NpgsqlDbType.TimestampTz), sql.Add(days.To, NpgsqlDbType.TimestampTz));
            dayCtes = $"""
                , day_hours AS (
                    SELECT date_trunc('day', bucket, 'UTC') AS day, dims, sum(count) AS count
                    FROM {ExplorerPlan.TaggedHourTable} WHERE name = {name} AND bucket >= {df} AND bucket < {dt}
                    GROUP BY 1, 2
                ), valid_days AS MATERIALIZED (
                    SELECT d.* FROM {ExplorerPlan.TaggedDayTable} d
                    JOIN day_hours h ON h.day = d.bucket AND h.dims = d.dims AND h.count = d.count
                    WHERE d.name = {name} AND d.bucket >= {df} AND d.bucket < {dt}
                )
                """;
        }

        var text = $"""
            WITH singles AS MATERIALIZED (
                SELECT {rawGroup} AS g, {rawStart} AS b, value FROM metrics
                WHERE {rawWhere} AND sketch_keys IS NULL
            ), sizes AS (
                SELECT g, b, count(*) AS n, sum(value) AS s, min(value) AS lo, max(value) AS hi FROM singles GROUP BY g, b
            ), small AS (
                SELECT g, b, array_agg(value ORDER BY value) AS vals
                FROM singles JOIN sizes USING (g, b)
                WHERE sizes.n <= {limit} GROUP BY g, b
            ), big AS (
                SELECT g, b, array_agg(k ORDER BY k) AS keys, array_agg(c ORDER BY k) AS counts
                FROM (SELECT g, b, sketch_key(value) AS k, count(*) AS c
                      FROM singles JOIN sizes USING (g, b)
                      WHERE sizes.n > {limit} GROUP BY 1, 2, 3) keyed
                GROUP BY g, b
            )
            {dayCtes}
            SELECT sizes.g, sizes.b, sizes.n, sizes.s, sizes.lo, sizes.hi, big.keys, big.counts, small.vals, 0::bigint, NULL::bytea
            FROM sizes
            LEFT JOIN small USING (g, b)
            LEFT JOIN big USING (g, b)
            UNION ALL
            SELECT {rawGroup}, {rawStart}, count, value,
                   coalesce(min, sketch_value(sketch_keys[1])), coalesce(max, sketch_value(sketch_keys[cardinality(sketch_keys)])),
                   sketch_keys, sketch_counts, NULL::float8[], count, NULL::bytea
            FROM metrics
            WHERE {rawWhere} AND sketch_keys IS NOT NULL
            """;

        foreach (var (table, from, to) in plan.Rollups)
        {
            var sketch = table == ExplorerPlan.TaggedMinuteTable
                ? "(sketch).keys, (sketch).counts, NULL::float8[], dist_count, NULL::bytea"
                : "CASE WHEN sketch_packed IS NULL THEN (sketch).keys END, CASE WHEN sketch_packed IS NULL THEN (sketch).counts END, NULL::float8[], dist_count, sketch_packed";
            var columns = $"{GroupSql(sql, "dims", query.GroupBy)}, {Start("bucket")}, count, sum, min, max, {sketch}";
            var filter = FilterSql(sql, "dims", query.Filters);
            if (table == ExplorerPlan.TaggedDayTable)
            {
                text += $"""

                    UNION ALL
                    SELECT {columns} FROM valid_days WHERE {filter}
                    UNION ALL
                    SELECT {columns} FROM {ExplorerPlan.TaggedHourTable} h
                    WHERE name = {name} AND bucket >= {sql.Add(from, NpgsqlDbType.TimestampTz)} AND bucket < {sql.Add(to, NpgsqlDbType.TimestampTz)} AND {filter}
                      AND NOT EXISTS (SELECT 1 FROM valid_days v WHERE v.bucket = date_trunc('day', h.bucket, 'UTC') AND v.dims = h.dims)
                    """;
                continue;
            }

            text += $"""

                UNION ALL
                SELECT {columns}
                FROM {table}
                WHERE name = {name} AND bucket >= {sql.Add(from, NpgsqlDbType.TimestampTz)} AND bucket < {sql.Add(to, NpgsqlDbType.TimestampTz)}
                  AND {filter}
                """;
        }

        return text;
    }

    // The group of a row as the JSON text of its tag values ('' for a missing tag), e.g. ["/a", "200"].
    internal static string GroupSql(SqlBuilder sql, string column, IReadOnlyList<string> groupBy) =>
        groupBy.Count == 0
            ? "'[]'::text"
            : $"jsonb_build_array({string.Join(", ", groupBy.Select(k => $"coalesce({column} ->> {sql.Add(k, NpgsqlDbType.Text)}, '')"))})::text";

    // Equals filters on one key are alternatives (OR), different keys all
    // apply (AND); a not-equals filter always applies, and matches a row
    // without the tag, which no equals filter does.
    internal static string FilterSql(SqlBuilder sql, string column, IReadOnlyList<TagFilter> filters)
    {
        var conditions = new List<string>();
        foreach (var byKey in filters.Where(f => !f.Negated).GroupBy(f => f.Key, StringComparer.Ordinal))
        {
            conditions.Add($"({column} ->> {sql.Add(byKey.Key, NpgsqlDbType.Text)}) = ANY({sql.Add(byKey.Select(f => f.Value).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)})");
        }

        foreach (var filter in filters.Where(f => f.Negated))
        {
            conditions.Add($"({column} ->> {sql.Add(filter.Key, NpgsqlDbType.Text)}) IS DISTINCT FROM {sql.Add(filter.Value, NpgsqlDbType.Text)}");
        }

        return conditions.Count == 0 ? "TRUE" : string.Join(" AND ", conditions);
    }

    private static string Spans(SqlBuilder sql, string column, List<(DateTime From, DateTime To)> spans) =>
        spans.Count == 0
            ? "FALSE"
            : "(" + string.Join(" OR ", spans.Select(s => $"({column} >= {sql.Add(s.From, NpgsqlDbType.TimestampTz)} AND {column} < {sql.Add(s.To, NpgsqlDbType.TimestampTz)})")) + ")";
}
