using System.Collections.Concurrent;
using ContentMax.Contracts;
using ContentMax.Ingestion.Prometheus.Proto;

namespace ContentMax.Ingestion.Prometheus;

// The type of each metric family, remembered from the metadata Prometheus
// sends (every minute by default, in requests of their own rather than beside
// the samples). Bounded: when full it starts over, and the next metadata round
// fills it again; until then, families fall back to the "_total" naming rule.
public sealed class PrometheusFamilies(int capacity = PrometheusFamilies.DefaultCapacity)
{
    public const int DefaultCapacity = 20_000;

    private static readonly string[] DistributionSuffixes = ["_bucket", "_sum", "_count"];

    private readonly ConcurrentDictionary<string, MetricMetadata.Types.MetricType> _types = new(StringComparer.Ordinal);

    public int Count => _types.Count;

    public void Remember(string family, MetricMetadata.Types.MetricType type)
    {
        if (family.Length == 0 || family.Length > MetricRules.MaxNameLength) return;
        if (_types.TryGetValue(family, out var known) && known == type) return;
        if (_types.Count >= capacity) _types.Clear();
        _types[family] = type;
    }

    public MetricMetadata.Types.MetricType? TypeOf(string family) =>
        _types.TryGetValue(family, out var type) ? type : null;

    // Whether the series named so holds a running total: a name ending in
    // "_total", a COUNTER family, or the _bucket, _sum and _count series of a
    // HISTOGRAM or SUMMARY family.
    public bool IsCounter(string name)
    {
        if (name.EndsWith("_total", StringComparison.Ordinal)) return true;
        if (TypeOf(name) == MetricMetadata.Types.MetricType.Counter) return true;
        foreach (var suffix in DistributionSuffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal)
                && TypeOf(name[..^suffix.Length]) is MetricMetadata.Types.MetricType.Histogram or MetricMetadata.Types.MetricType.Summary)
            {
                return true;
            }
        }

        return false;
    }
}
