using ContentMax.Aggregation.Rollups;
using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// Adds up everything that makes one aggregate: rollup rows, raw values and
// points that stand for many observations. Count, sum, min and max are exact;
// percentiles are exact when every observation was added as a value and there
// are few enough to keep (ToAggregate takes them sorted), and come from the
// merged sketch otherwise.
public sealed class AggregateBuilder
{
    public LogSketch Sketch { get; } = new();

    public long Count { get; private set; }

    // Observations that came from points standing for many: never exact.
    public long DistCount { get; private set; }

    private double _sum;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;

    public void Add(long count, double sum, double min, double max, long distCount = 0)
    {
        Count += count;
        _sum += sum;
        _min = Math.Min(_min, min);
        _max = Math.Max(_max, max);
        DistCount += distCount;
    }

    public void AddSketch(int[] keys, long[] counts) => Sketch.Merge(keys, counts);

    public void AddPackedSketch(ReadOnlySpan<byte> packed) => Sketch.MergePacked(packed);

    public void Merge(AggregateBuilder other)
    {
        if (other.Count == 0) return;
        Add(other.Count, other._sum, other._min, other._max, other.DistCount);
        Sketch.Merge(other.Sketch);
    }

    public void AddValues(double[] values)
    {
        if (values.Length == 0) return;
        var sum = 0.0;
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        foreach (var value in values)
        {
            sum += value;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
            Sketch.Add(value);
        }

        Add(values.Length, sum, min, max);
    }

    // A point that stands for many observations; without min or max they are
    // taken from its sketch.
    public void AddDistribution(long count, double sum, double? min, double? max, int[] keys, long[] counts)
    {
        if (keys.Length == 0) return;
        Add(count, sum, min ?? LogSketch.ValueOf(keys[0]), max ?? LogSketch.ValueOf(keys[^1]), count);
        Sketch.Merge(keys, counts);
    }

    // Exact from the sorted values when they are all of it, from the sketch otherwise.
    public MetricAggregate ToAggregate(double[]? sortedValues = null)
    {
        if (sortedValues is { Length: > 0 } && sortedValues.Length == Count && DistCount == 0)
        {
            return Percentiles.Aggregate(sortedValues, _sum);
        }

        long[] ranks = [Count / 2, Count / 2 + 1, Percentiles.Rank(Count, 75), Percentiles.Rank(Count, 95), Percentiles.Rank(Count, 99)];
        var v = Sketch.ValuesAtRanks(ranks, _min, _max);
        var median = Count % 2 == 0 ? (v[0] + v[1]) / 2 : v[1];
        return new MetricAggregate(Count, _sum, _min, _max, _sum / Count, median, v[2], v[3], v[4], Exact: false);
    }
}
