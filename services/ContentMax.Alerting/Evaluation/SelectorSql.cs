using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Evaluation;

// Turns a MetricSelector into SQL over the raw metrics table. Every value
// travels as a parameter; operators come from a fixed list, so no part of a
// rule reaches the SQL text.
//
// A raw row may stand for many observations (a histogram point), so a
// selector is two parts: Where picks the rows (name, tags, tag comparisons),
// and Weight says how many of a row's observations count (the value
// comparisons: 1 or 0 for a single value, the matching observations of a
// histogram point's sketch otherwise).
public static class SelectorSql
{
    // `tags` names the column the tag conditions read: the raw rows' tags, or
    // the tagged rollups' dims (the same JSON object, cut to the rollup keys).
    public static string Where(MetricSelector selector, NpgsqlCommand command, string tags = "tags")
    {
        var sql = new StringBuilder();
        sql.Append("name = ").Append(Add(command, selector.Metric, NpgsqlDbType.Text));
        if (selector.Tags is { Count: > 0 } equals)
        {
            sql.Append(" AND ").Append(tags).Append(" @> ").Append(Add(command, JsonSerializer.Serialize(equals), NpgsqlDbType.Jsonb));
        }

        foreach (var filter in selector.Where ?? [])
        {
            if (filter.Tag is null) continue;
            // A tag that is missing or not a number never matches a numeric comparison.
            var tag = Add(command, filter.Tag, NpgsqlDbType.Text);
            sql.Append(" AND (CASE WHEN ").Append(tags).Append(" ->> ").Append(tag).Append(" ~ '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$' THEN (")
                .Append(tags).Append(" ->> ").Append(tag).Append(")::float8 END) ").Append(SqlOp(filter.Op)).Append(' ').Append(Add(command, filter.Value, NpgsqlDbType.Double));
        }

        return sql.ToString();
    }

    // The tag keys the selector's conditions read.
    public static IEnumerable<string> TagKeys(MetricSelector selector) =>
        (selector.Tags?.Keys ?? Enumerable.Empty<string>()).Concat((selector.Where ?? []).Where(f => f.Tag is not null).Select(f => f.Tag!)).Distinct(StringComparer.Ordinal);

    // The comparisons on a single value, "true" when there are none.
    public static string ValueConditions(MetricSelector selector, NpgsqlCommand command)
    {
        var conditions = ValueFilters(selector)
            .Select(f => $"value {SqlOp(f.Op)} {Add(command, f.Value, NpgsqlDbType.Double)}")
            .ToList();
        return conditions.Count == 0 ? "true" : string.Join(" AND ", conditions);
    }

    // How many of a row's observations the selector counts.
    public static string Weight(MetricSelector selector, NpgsqlCommand command)
    {
        var filters = ValueFilters(selector).ToList();
        if (filters.Count == 0) return "count";
        var ops = Add(command, filters.Select(f => SqlOp(f.Op)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        var xs = Add(command, filters.Select(f => f.Value).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Double);
        return $"(CASE WHEN sketch_keys IS NULL THEN CASE WHEN {ValueConditions(selector, command)} THEN 1 ELSE 0 END " +
               $"ELSE sketch_count_where(sketch_keys, sketch_counts, {ops}, {xs}) END)";
    }

    public static IEnumerable<ValueFilter> ValueFilters(MetricSelector selector) => (selector.Where ?? []).Where(f => f.Tag is null);

    public static string Add(NpgsqlCommand command, object value, NpgsqlDbType type)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        return P(command.Parameters.Count);
    }

    private static string SqlOp(string op) => op switch
    {
        "==" => "=",
        "!=" => "<>",
        var known when Comparisons.All.Contains(known) => known,
        _ => throw new ArgumentException($"Unknown comparison '{op}'."),
    };

    private static string P(int index) => "$" + index;
}
