using ContentMax.Contracts;
using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// What the metrics explorer asks of /series and /breakdown besides the metric
// and the period: tag filters, up to two group-by keys, the aggregation that
// ranks the groups, and how many groups to keep before the rest are merged
// into "other".
public sealed record ExplorerQuery(IReadOnlyList<TagFilter> Filters, IReadOnlyList<string> GroupBy, string Aggregation, int Limit)
{
    public const int MaxFilters = 10;
    public const int MaxGroupByKeys = 2;

    public static readonly string[] Aggregations = ["count", "sum", "avg", "min", "max", "p50", "p75", "p95", "p99"];

    public static ExplorerQuery All(string aggregation, int limit) => new([], [], aggregation, limit);

    // Every tag key the query reads, for choosing between the tagged rollups and raw rows.
    public IEnumerable<string> Keys => Filters.Select(f => f.Key).Concat(GroupBy).Distinct(StringComparer.Ordinal);

    // Filters in the order they were given, as `key:value` / `key!=value`, for the answer.
    public List<string> FilterTexts => [.. Filters.Select(f => f.ToString())];

    // "filter": repeatable; `key:value` or `key!=value`, split at whichever of
    // the first ':' or the first "!=" comes first.
    public static List<TagFilter> ParseFilters(string[]? filters, Dictionary<string, string[]> errors)
    {
        var parsed = new List<TagFilter>();
        if (filters is not { Length: > 0 }) return parsed;
        if (filters.Length > MaxFilters)
        {
            errors["filter"] = [$"at most {MaxFilters} filters may be given"];
            return parsed;
        }

        var problems = new List<string>();
        foreach (var text in filters)
        {
            if (TagFilter.TryParse(text, out var filter, out var reason)) parsed.Add(filter!);
            else problems.Add($"'{Shorten(text ?? "")}' {reason}");
        }

        if (problems.Count > 0) errors["filter"] = [.. problems];
        return parsed;
    }

    // "groupBy": repeatable, at most two distinct tag keys. `tag` (breakdown's
    // older parameter) counts as one of them.
    public static List<string> ParseGroupBy(string[]? groupBy, Dictionary<string, string[]> errors)
    {
        var keys = new List<string>();
        if (groupBy is not { Length: > 0 }) return keys;
        foreach (var key in groupBy)
        {
            if (string.IsNullOrEmpty(key))
            {
                errors["groupBy"] = ["must name a tag key"];
                return [];
            }

            if (MetricRules.CheckText(key, MetricRules.MaxTagKeyLength) is { } reason)
            {
                errors["groupBy"] = [$"'{Shorten(key)}' {reason}"];
                return [];
            }

            if (keys.Contains(key, StringComparer.Ordinal))
            {
                errors["groupBy"] = [$"'{key}' is given twice; the keys must be distinct"];
                return [];
            }

            keys.Add(key);
        }

        if (keys.Count > MaxGroupByKeys)
        {
            errors["groupBy"] = [$"at most {MaxGroupByKeys} tag keys may be given"];
            return [];
        }

        return keys;
    }

    public static string ParseAggregation(string? agg, string fallback, Dictionary<string, string[]> errors)
    {
        if (agg is null) return fallback;
        if (Aggregations.Contains(agg, StringComparer.Ordinal)) return agg;
        errors["agg"] = [$"must be one of {string.Join(", ", Aggregations)}"];
        return fallback;
    }

    // The figure an aggregation picks from an aggregate; null for an empty group.
    public static double? Pick(MetricAggregate? aggregate, string aggregation) => aggregate is null || aggregate.Count == 0 ? null : aggregation switch
    {
        "count" => aggregate.Count,
        "sum" => aggregate.Sum,
        "avg" => aggregate.Average,
        "min" => aggregate.Min,
        "max" => aggregate.Max,
        "p50" => aggregate.Median,
        "p75" => aggregate.P75,
        "p95" => aggregate.P95,
        "p99" => aggregate.P99,
        _ => throw new ArgumentOutOfRangeException(nameof(aggregation), aggregation, "not an aggregation"),
    };

    internal static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

public sealed record TagFilter(string Key, string Value, bool Negated)
{
    public static bool TryParse(string? text, out TagFilter? filter, out string reason)
    {
        filter = null;
        reason = "";
        if (string.IsNullOrEmpty(text))
        {
            reason = "is empty; write key:value or key!=value";
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var notEquals = text.IndexOf("!=", StringComparison.Ordinal);
        var negated = notEquals >= 0 && (colon < 0 || notEquals < colon);
        var at = negated ? notEquals : colon;
        if (at < 0)
        {
            reason = "must be key:value or key!=value";
            return false;
        }

        var key = text[..at];
        var value = text[(at + (negated ? 2 : 1))..];
        if (key.Length == 0)
        {
            reason = "has no tag key before the operator";
            return false;
        }

        if (MetricRules.CheckText(key, MetricRules.MaxTagKeyLength) is { } keyReason)
        {
            reason = "has a key that " + keyReason;
            return false;
        }

        if (MetricRules.CheckText(value, MetricRules.MaxTagValueLength) is { } valueReason)
        {
            reason = "has a value that " + valueReason;
            return false;
        }

        filter = new TagFilter(key, value, negated);
        return true;
    }

    public override string ToString() => Negated ? $"{Key}!={Value}" : $"{Key}:{Value}";
}
