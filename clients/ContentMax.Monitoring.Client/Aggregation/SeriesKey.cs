namespace ContentMax.Monitoring.Client.Aggregation;

// A metric name and its own tags, in key order, so the same tags in any order
// are the same series. The hash is computed once.
internal sealed class SeriesKey : IEquatable<SeriesKey>
{
    private readonly int _hash;

    public SeriesKey(string name, KeyValuePair<string, string>[] tags)
    {
        if (tags.Length > 1) Array.Sort(tags, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        Name = name;
        Tags = tags;
        var hash = new HashCode();
        hash.Add(name, StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            hash.Add(key, StringComparer.Ordinal);
            hash.Add(value, StringComparer.Ordinal);
        }

        _hash = hash.ToHashCode();
    }

    public string Name { get; }

    public KeyValuePair<string, string>[] Tags { get; }

    public static SeriesKey From(string name, IReadOnlyDictionary<string, string>? tags) =>
        new(name, tags is null or { Count: 0 } ? [] : [.. tags]);

    public static SeriesKey From(string name, ReadOnlySpan<(string Key, string Value)> tags)
    {
        var pairs = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++) pairs[i] = new(tags[i].Key, tags[i].Value);
        return new SeriesKey(name, pairs);
    }

    public bool Equals(SeriesKey? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._hash != _hash || other.Tags.Length != Tags.Length || !string.Equals(other.Name, Name, StringComparison.Ordinal)) return false;
        for (var i = 0; i < Tags.Length; i++)
        {
            if (!string.Equals(Tags[i].Key, other.Tags[i].Key, StringComparison.Ordinal)
                || !string.Equals(Tags[i].Value, other.Tags[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

    public override int GetHashCode() => _hash;
}
