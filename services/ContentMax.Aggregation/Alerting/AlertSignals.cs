using ContentMax.Aggregation.Queries;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Alerting;

// The numbers rules compare: an aggregate, a rate or a ratio of metric points
// over a window ending now. A whole metric is read from the rollups (the same
// merge the query API does); a selector with tags or conditions reads the raw
// rows of its window through the (name, ts) index.
public sealed class AlertSignals(NpgsqlDataSource dataSource, MetricQueries queries)
{
    // The value a threshold, rate or ratio rule compares, or null when there
    // is nothing to judge (no points, or fewer than MinEvents for a ratio).
    public async Task<double?> ValueAsync(AlertRule rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var from = now - rule.Window;
        switch (rule.Kind)
        {
            case RuleKinds.Threshold:
                var aggregate = await AggregateAsync(rule.Select!, from, now, cancellationToken);
                return aggregate is null ? rule.Aggregate == "count" ? 0 : null : Pick(aggregate, rule.Aggregate!);
            case RuleKinds.Rate:
                var count = await CountAsync(rule.Select!, from, now, cancellationToken);
                return count / (rule.Window / rule.Per);
            case RuleKinds.Ratio:
                var denominator = await CountAsync(rule.Denominator!, from, now, cancellationToken);
                if (denominator < rule.MinEvents) return null;
                var numerator = await CountAsync(rule.Numerator!, from, now, cancellationToken);
                return (double)numerator / denominator;
            default:
                throw new ArgumentException($"Rule kind '{rule.Kind}' has no metric value.", nameof(rule));
        }
    }

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

        await using var command = dataSource.CreateCommand();
        var window = Window(command, from, to);
        command.CommandText = $"SELECT array_agg(value ORDER BY value), sum(value) FROM metrics WHERE {window} AND {SelectorSql.Where(selector, command)}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.IsDBNull(0) ? null : MetricAggregate.FromSorted(reader.GetFieldValue<double[]>(0), reader.GetDouble(1));
    }

    public async Task<long> CountAsync(MetricSelector selector, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (selector.IsWholeMetric)
        {
            var all = await queries.AggregateAsync(from, to, selector.Metric, cancellationToken);
            return all.GetValueOrDefault(selector.Metric)?.Count ?? 0;
        }

        await using var command = dataSource.CreateCommand();
        var window = Window(command, from, to);
        command.CommandText = $"SELECT count(*) FROM metrics WHERE {window} AND {SelectorSql.Where(selector, command)}";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static string Window(NpgsqlCommand command, DateTimeOffset from, DateTimeOffset to) =>
        $"ts >= {SelectorSql.Add(command, from.UtcDateTime, NpgsqlDbType.TimestampTz)} AND ts < {SelectorSql.Add(command, to.UtcDateTime, NpgsqlDbType.TimestampTz)}";
}
