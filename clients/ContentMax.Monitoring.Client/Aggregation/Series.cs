using System.Runtime.InteropServices;
using ContentMax.Contracts;

namespace ContentMax.Monitoring.Client.Aggregation;

// How a series folds its observations into one point per flush.
internal enum SeriesKind
{
    // count, sum, min, max and log buckets: one point that stands for many.
    Distribution,

    // The last value reported, as one plain point (active_projects and other gauges).
    Gauge,
}

// One series (a name and a tag set) being aggregated for the current flush
// interval. Recording takes a short lock; Drain hands over what was gathered
// and starts the next interval. A series that gathered nothing for a whole
// interval retires: recording into it then fails, and the caller asks the
// aggregator for a fresh one, so idle series do not hold buffer space.
internal sealed class Series(string name, Dictionary<string, string> tags, SeriesKind kind)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, long> _buckets = [];
    private long _count;
    private double _sum;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private double _last;
    private volatile bool _retired;

    public string Name => name;

    // Shared by every point the series forms; never changed after creation.
    public Dictionary<string, string> Tags => tags;

    public SeriesKind Kind => kind;

    public bool IsRetired => _retired;

    // False when the series has retired; the value is not recorded then.
    public bool TryRecord(double value, long times = 1)
    {
        var key = kind == SeriesKind.Distribution ? LogBuckets.KeyOf(value) : 0;
        lock (_lock)
        {
            if (_retired) return false;
            _count += times;
            _sum += value * times;
            if (value < _min) _min = value;
            if (value > _max) _max = value;
            _last = value;
            if (kind == SeriesKind.Distribution) CollectionsMarshal.GetValueRefOrAddDefault(_buckets, key, out _) += times;
            return true;
        }
    }

    // The point for the interval that ends now, or null when nothing was
    // recorded, in which case the series has retired.
    public MetricPoint? Drain(DateTimeOffset now)
    {
        long count;
        double sum, min, max, last;
        int[]? keys = null;
        long[]? counts = null;
        lock (_lock)
        {
            if (_count == 0)
            {
                _retired = true;
                return null;
            }

            (count, sum, min, max, last) = (_count, _sum, _min, _max, _last);
            if (kind == SeriesKind.Distribution && count > 1)
            {
                keys = new int[_buckets.Count];
                counts = new long[_buckets.Count];
                var i = 0;
                foreach (var (key, n) in _buckets)
                {
                    keys[i] = key;
                    counts[i++] = n;
                }
            }

            _buckets.Clear();
            _count = 0;
            _sum = 0;
            _min = double.PositiveInfinity;
            _max = double.NegativeInfinity;
        }

        // Encoding (sorting, powers) happens outside the lock.
        var timestamp = now.ToUnixTimeMilliseconds();
        var id = Guid.CreateVersion7(now);
        if (keys is null)
        {
            // A gauge, or a single observation: a plain point with its exact value.
            return new MetricPoint
            {
                Id = id,
                RequireUniqueId = true,
                Metric = name,
                Value = kind == SeriesKind.Gauge ? last : sum,
                Timestamp = timestamp,
                Tags = tags,
            };
        }

        Array.Sort(keys, counts);
        return new MetricPoint
        {
            Id = id,
            RequireUniqueId = true,
            Metric = name,
            Value = sum,
            Timestamp = timestamp,
            Tags = tags,
            Distribution = LogBuckets.Encode(keys, counts, count, min, max),
        };
    }
}
