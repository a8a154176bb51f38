using System.Buffers;
using ContentMax.Contracts;

namespace ContentMax.Aggregation.Storage;

// The points of one write in the order of the metrics table's (name, ts)
// B-tree, for COPY. In arrival order, each row's index entry lands on a leaf
// page of its own name's latest minute, far from the row before it; in index
// order, consecutive entries land on the same leaf pages, which stay hot.
// Binary COPY of 1M live-like points (20 names, stamped within the minute
// before arrival, in writes of 5,000) took 24% less time sorted than in
// arrival order (docs/benchmarks-analysis.md).
//
// The array is pooled: a write of 20,000 points would otherwise be a large
// object the GC keeps until its next full collection.
public sealed class IndexOrderedPoints : IDisposable
{
    private static readonly Comparer<MetricPoint> NameThenTime = Comparer<MetricPoint>.Create((a, b) =>
    {
        var byName = string.CompareOrdinal(a.Metric, b.Metric);
        return byName != 0 ? byName : a.Timestamp.CompareTo(b.Timestamp);
    });

    private MetricPoint[] _points;
    private int _count;

    public IndexOrderedPoints(IEnumerable<MetricPoint> points, int expectedCount)
    {
        _points = ArrayPool<MetricPoint>.Shared.Rent(Math.Max(expectedCount, 16));
        foreach (var point in points)
        {
            if (_count == _points.Length)
            {
                var larger = ArrayPool<MetricPoint>.Shared.Rent(_points.Length * 2);
                Array.Copy(_points, larger, _count);
                ArrayPool<MetricPoint>.Shared.Return(_points, clearArray: true);
                _points = larger;
            }

            _points[_count++] = point;
        }

        Array.Sort(_points, 0, _count, NameThenTime);
    }

    public ArraySegment<MetricPoint> Points => new(_points, 0, _count);

    public void Dispose()
    {
        ArrayPool<MetricPoint>.Shared.Return(_points, clearArray: true);
        _points = [];
        _count = 0;
    }
}
