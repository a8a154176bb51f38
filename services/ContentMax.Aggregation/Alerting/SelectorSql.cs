using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Alerting;

// Turns a MetricSelector into a WHERE fragment over the raw metrics table.
// Every value travels as a parameter; operators come from a fixed list, so no
// part of a rule reaches the SQL text.
public static class SelectorSql
{
    public static string Where(MetricSelector selector, NpgsqlCommand command)
    {
        var sql = new StringBuilder();
        sql.Append("name = ").Append(Add(command, selector.Metric, NpgsqlDbType.Text));
        if (selector.Tags is { Count: > 0 } tags)
        {
            sql.Append(" AND tags @> ").Append(Add(command, JsonSerializer.Serialize(tags), NpgsqlDbType.Jsonb));
        }

        foreach (var filter in selector.Where ?? [])
        {
            var op = filter.Op switch
            {
                "==" => "=",
                "!=" => "<>",
                var known when Comparisons.All.Contains(known) => known,
                _ => throw new ArgumentException($"Unknown comparison '{filter.Op}'.", nameof(selector)),
            };
            var left = filter.Tag is null
                ? "value"
                // A tag that is missing or not a number never matches a numeric comparison.
                : $"(CASE WHEN tags ->> {Add(command, filter.Tag, NpgsqlDbType.Text)} ~ '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$' THEN (tags ->> {P(command.Parameters.Count)})::float8 END)";
            sql.Append(" AND ").Append(left).Append(' ').Append(op).Append(' ').Append(Add(command, filter.Value, NpgsqlDbType.Double));
        }

        return sql.ToString();
    }

    public static string Add(NpgsqlCommand command, object value, NpgsqlDbType type)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        return P(command.Parameters.Count);
    }

    private static string P(int index) => "$" + index;
}
