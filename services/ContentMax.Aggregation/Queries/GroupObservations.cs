using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// The observations of one explorer group (or one group in one chart step),
// gathered from raw values, raw distribution points and rollup rows, and
// merged into others for totals, all-groups buckets and "other". It keeps the
// single values while there are at most exactLimit of them and nothing else
// came in, so a small group is answered exactly; anything larger or sketched
// comes from the merged sketch (within 0.5%).
public sealed class GroupObservations(int exactLimit)
{
    private readonly AggregateBuilder _builder = new();
    private List<double>? _values = [];

    public long Count => _builder.Count;

    public long DistCount => _builder.DistCount;

    // Whether every observation so far came as a single value (from raw rows).
    public bool FromValues => _values is not null;

    public void AddValues(double[] values)
    {
        _builder.AddValues(values);
        KeepValues(values);
    }

    // A rollup row or a point that stands for many observations.
    public void AddSketch(long count, double sum, double min, double max, int[] keys, long[] counts, long distCount)
    {
        if (count == 0) return;
        _builder.Add(count, sum, min, max, distCount);
        _builder.AddSketch(keys, counts);
        _values = null;
    }

    // The same, with the sketch packed (LogSketch.MergePacked).
    public void AddPackedSketch(long count, double sum, double min, double max, ReadOnlySpan<byte> packed, long distCount)
    {
        if (count == 0) return;
        _builder.Add(count, sum, min, max, distCount);
        _builder.AddPackedSketch(packed);
        _values = null;
    }

    public void Merge(GroupObservations other)
    {
        _builder.Merge(other._builder);
        if (other._values is null) _values = null;
        else KeepValues(other._values);
    }

    public MetricAggregate? ToAggregate()
    {
        if (Count == 0) return null;
        if (_values is not null && _values.Count == Count)
        {
            var sorted = _values.ToArray();
            Array.Sort(sorted);
            return _builder.ToAggregate(sorted);
        }

        return _builder.ToAggregate();
    }

    private void KeepValues(IReadOnlyCollection<double> values)
    {
        if (_values is null) return;
        if (_values.Count + values.Count > exactLimit) _values = null;
        else _values.AddRange(values);
    }
}
