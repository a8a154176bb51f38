using ContentMax.Contracts;

namespace ContentMax.Ingestion.Protocols;

// A point's tags, kept within MetricRules' limits. An attribute or label that
// would break them is dropped and its reason noted: a tag too long or
// malformed is never a reason to lose the point (MetricRules would reject the
// whole point, and the consumer the whole message). Candidates are added in a
// fixed order, so which tags survive past the 32nd is deterministic.
public sealed class BoundedTags
{
    private List<string>? _dropped;

    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    // One reason per dropped candidate; empty when nothing was dropped.
    public IReadOnlyList<string> Dropped => _dropped ?? (IReadOnlyList<string>)[];

    public bool TryAdd(string key, string value)
    {
        var reason = ReasonToDrop(key, value);
        if (reason is null)
        {
            Tags.Add(key, value);
            return true;
        }

        (_dropped ??= []).Add(reason);
        return false;
    }

    // The tags for MetricPoint.Tags: null when there are none.
    public Dictionary<string, string>? ToTags() => Tags.Count > 0 ? Tags : null;

    private string? ReasonToDrop(string key, string value)
    {
        if (key.Length == 0 || key.Length > MetricRules.MaxTagKeyLength) return "key_length";
        if (value.Length > MetricRules.MaxTagValueLength) return "value_length";
        if (MetricRules.CheckText(key, MetricRules.MaxTagKeyLength) is not null
            || MetricRules.CheckText(value, MetricRules.MaxTagValueLength) is not null) return "control_characters";
        if (Tags.ContainsKey(key)) return "duplicate";
        if (Tags.Count >= MetricRules.MaxTags) return "too_many";
        return null;
    }
}
