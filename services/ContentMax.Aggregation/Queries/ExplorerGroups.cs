using System.Text.Json;

namespace ContentMax.Aggregation.Queries;

// Groups of one explorer answer, keyed by the JSON array of their tag values
// (["/a","200"]), and how they are ranked: the top `limit` by the chosen
// aggregation over the whole period, descending (for min too), groups without
// a value last, ties by their values; the rest merge into "other".
public static class ExplorerGroups
{
    public const string OtherLabel = "other";
    public const string AllLabel = "all";

    public static string[] ValuesOf(string groupJson) => JsonSerializer.Deserialize<string[]>(groupJson) ?? [];

    public static Dictionary<string, string> GroupOf(IReadOnlyList<string> keys, string[] values)
    {
        var group = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++) group[keys[i]] = i < values.Length ? values[i] : "";
        return group;
    }

    public static string LabelOf(IReadOnlyList<string> keys, string[] values) =>
        keys.Count == 0 ? AllLabel : string.Join(", ", keys.Select((k, i) => $"{k}={(i < values.Length ? values[i] : "")}"));

    // The keys of the top groups in order, and the keys of the rest.
    public static (List<string> Top, List<string> Others) Rank(IReadOnlyDictionary<string, GroupObservations> totals, string aggregation, int limit)
    {
        var ranked = totals
            .Select(t => (t.Key, Value: ExplorerQuery.Pick(t.Value.ToAggregate(), aggregation)))
            .OrderBy(t => t.Value is null ? 1 : 0)
            .ThenByDescending(t => t.Value ?? 0)
            .ThenBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => t.Key)
            .ToList();
        return ranked.Count <= limit ? (ranked, []) : (ranked[..limit], ranked[limit..]);
    }

    public static GroupObservations MergeAll(IEnumerable<GroupObservations> parts, int exactLimit)
    {
        var merged = new GroupObservations(exactLimit);
        foreach (var part in parts) merged.Merge(part);
        return merged;
    }
}
