using ContentMax.Aggregation.Storage;
using ContentMax.Alerting.Evaluation;
using ContentMax.Alerting.Rules;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// The metric reads alerting judges its rules by. A whole metric is read from
// the rollups (the same merge the query API does); a selector with tags or
// conditions reads the raw rows of its window through the (name, ts) index,
// unless the minute rollups show that none of them can match (NoneCanMatchAsync).
public sealed class AlertMetricSignals(
    NpgsqlDataSource dataSource, MetricQueries queries, IOptions<AggregationOptions> aggregation, IOptions<RetentionOptions> retention, TimeProvider time)
    : IMetricSignals
{
    public async Task<double?> AggregateAsync(
        MetricSelector selector, string aggregate, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        await AggregateAsync(selector, from, to, cancellationToken) is { } found ? Pick(found, aggregate) : null;

    public static double Pick(MetricAggregate aggregate, string name) => name switch
    {
        "count" => aggregate.Count,
        "sum" => aggregate.Sum,
        "min" => aggregate.Min,
        "max" => aggregate.Max,
        "avg" => aggregate.Average,
        "median" => aggregate.Median,
        "p75" => aggregate.P75,
        "p95" => aggregate.P95,
        "p99" => aggregate.P99,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown aggregate."),
    };

    private async Task<MetricAggregate?> AggregateAsync(MetricSelector selector, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (selector.IsWholeMetric)
        {
            var all = await queries.AggregateAsync(from, to, selector.Metric, cancellationToken);
            return all.GetValueOrDefault(selector.Metric);
        }

        if (await NoneCanMatchAsync(selector, from, to, cancellationToken)) return null;

        // Single values filtered in SQL (as a sketch built there once there are
        // more than ExactLimit of them, so a long window's raw values are never
        // all loaded); histogram points whole, their buckets filtered here.
        await using var command = dataSource.CreateCommand();
        var window = Window(command, from, to);
        var where = SelectorSql.Where(selector, command);
        var values = SelectorSql.ValueConditions(selector, command);
        var limit = SelectorSql.Add(command, (long)queries.ExactLimit, NpgsqlDbType.Bigint);
        command.CommandText = $"""
            WITH singles AS MATERIALIZED (
                SELECT 0 AS g, value FROM metrics WHERE {window} AND {where} AND sketch_keys IS NULL AND {values}
            )
            {MetricQueries.GroupedSingles(limit)}
            UNION ALL
            SELECT 1, count, value, min, max, sketch_keys, sketch_counts, NULL::float8[]
            FROM metrics WHERE {window} AND {where} AND sketch_keys IS NOT NULL
            """;
        var filters = SelectorSql.ValueFilters(selector).ToList();
        Func<double, bool>? keep = filters.Count == 0 ? null : v => filters.All(f => Comparisons.Holds(v, f.Op, f.Value));
        var observations = new Observations();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // Column 0 says which: the singles (0, already filtered) or a histogram point (1, its buckets filtered now).
        while (await reader.ReadAsync(cancellationToken)) observations.Read(reader, 1, reader.GetInt32(0) == 1 ? keep : null);
        return observations.Builder.Count == 0 ? null : observations.ToAggregate();
    }

    // How many observations the selector counts over the window: points, or
    // the observations histogram points stand for.
    public async Task<long> CountAsync(MetricSelector selector, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (selector.IsWholeMetric)
        {
            var all = await queries.AggregateAsync(from, to, selector.Metric, cancellationToken);
            return all.GetValueOrDefault(selector.Metric)?.Count ?? 0;
        }

        if (await NoneCanMatchAsync(selector, from, to, cancellationToken)) return 0;

        await using var command = dataSource.CreateCommand();
        var window = Window(command, from, to);
        var where = SelectorSql.Where(selector, command);
        command.CommandText = $"SELECT coalesce(sum({SelectorSql.Weight(selector, command)}), 0)::bigint FROM metrics WHERE {window} AND {where}";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    // True when the minute rollups show that no raw row of [from, to) can match
    // the selector, so the raw read (a scan of all the metric's rows in the
    // window, as tags are not indexed) can be skipped: a rule on a rare
    // selector (errors{level: fatal}) then costs nothing while the metric
    // itself is busy. Exact: the rollups are written in the same transaction
    // as the raw rows. A selector with tag conditions asks the tagged minute
    // rollups, which hold every point carrying one of the rollup keys, so
    // every point such conditions can match when all their keys are rollup
    // keys, from when this key set's rollups began (rollup_tag_keys.since);
    // one without asks the untagged minute rollups. Either is read only within
    // the minute rollups' retention. False when the rollups cannot tell.
    private async Task<bool> NoneCanMatchAsync(MetricSelector selector, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (from < time.GetUtcNow() - retention.Value.Minute) return false;
        var rollupKeys = aggregation.Value.TagKeys;
        var keys = SelectorSql.TagKeys(selector).ToList();
        if (!keys.All(k => rollupKeys.Contains(k, StringComparer.Ordinal))) return false;

        await using var command = dataSource.CreateCommand();
        var first = SelectorSql.Add(command, new DateTime(from.UtcTicks - from.UtcTicks % TimeSpan.TicksPerMinute, DateTimeKind.Utc), NpgsqlDbType.TimestampTz);
        var end = SelectorSql.Add(command, to.UtcDateTime, NpgsqlDbType.TimestampTz);
        if (keys.Count == 0)
        {
            var name = SelectorSql.Add(command, selector.Metric, NpgsqlDbType.Text);
            command.CommandText = $"SELECT NOT EXISTS (SELECT 1 FROM metric_rollups_minute WHERE name = {name} AND bucket >= {first} AND bucket < {end})";
        }
        else
        {
            var keySet = SelectorSql.Add(command, rollupKeys, NpgsqlDbType.Array | NpgsqlDbType.Text);
            var where = SelectorSql.Where(selector, command, tags: "dims");
            command.CommandText = $"""
                SELECT coalesce((SELECT since <= {first} FROM rollup_tag_keys WHERE keys = {keySet}), false)
                    AND NOT EXISTS (SELECT 1 FROM metric_rollups_tagged_minute WHERE {where} AND bucket >= {first} AND bucket < {end})
                """;
        }

        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static string Window(NpgsqlCommand command, DateTimeOffset from, DateTimeOffset to) =>
        $"ts >= {SelectorSql.Add(command, from.UtcDateTime, NpgsqlDbType.TimestampTz)} AND ts < {SelectorSql.Add(command, to.UtcDateTime, NpgsqlDbType.TimestampTz)}";
}
