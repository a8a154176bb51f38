namespace ContentMax.Aggregation.Rollups;

// A mergeable quantile sketch with relative accuracy, in the style of DDSketch:
// values fall into logarithmic buckets of ratio gamma = (1 + a) / (1 - a), and a
// bucket is represented by a value within a (0.5%) of everything in it.
// Merging is adding counts, so per-minute sketches add up to per-hour ones and
// any period is answered by merging rollups instead of sorting raw rows.
//
// Buckets are keyed so that key order is value order, which lets Postgres store
// a sketch as two parallel arrays (keys int[], counts bigint[]) and merge them
// with plain SQL:
//   positive v  →  Offset + ceil(log_gamma(v))      (about  97,900 ..  169,100)
//   zero        →  0 (and |v| below MinMagnitude)
//   negative v  → -(Offset + ceil(log_gamma(|v|)))  (about -169,100 .. -97,900)
public sealed class LogSketch
{
    public const double RelativeAccuracy = 0.005;
    public const double MinMagnitude = 1e-9;
    private const int Offset = 100_000;

    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    private readonly SortedDictionary<int, long> _counts = new();

    public long Count { get; private set; }

    public int BucketCount => _counts.Count;

    public static int KeyOf(double value)
    {
        var magnitude = Math.Abs(value);
        if (magnitude < MinMagnitude) return 0;
        var key = Offset + (int)Math.Ceiling(Math.Log(magnitude) / LogGamma);
        return value > 0 ? key : -key;
    }

    // The value a bucket stands for: within RelativeAccuracy of every value in it.
    public static double ValueOf(int key)
    {
        if (key == 0) return 0;
        var exponent = Math.Abs(key) - Offset;
        var magnitude = 2 * Math.Pow(Gamma, exponent) / (Gamma + 1);
        return key > 0 ? magnitude : -magnitude;
    }

    public void Add(double value, long count = 1) => AddKey(KeyOf(value), count);

    public void AddKey(int key, long count)
    {
        if (count <= 0) return;
        _counts[key] = _counts.TryGetValue(key, out var existing) ? existing + count : count;
        Count += count;
    }

    public void Merge(LogSketch other)
    {
        foreach (var (key, count) in other._counts) AddKey(key, count);
    }

    public void Merge(ReadOnlySpan<int> keys, ReadOnlySpan<long> counts)
    {
        for (var i = 0; i < keys.Length; i++) AddKey(keys[i], counts[i]);
    }

    // The value at 1-based rank in sorted order, clamped to the exact extremes.
    public double ValueAtRank(long rank, double min, double max)
    {
        if (Count == 0) throw new InvalidOperationException("The sketch is empty.");
        rank = Math.Clamp(rank, 1, Count);
        if (rank == 1) return min;
        if (rank == Count) return max;

        long seen = 0;
        foreach (var (key, count) in _counts)
        {
            seen += count;
            if (seen >= rank) return Math.Clamp(ValueOf(key), min, max);
        }

        return max;
    }

    public (int[] Keys, long[] Counts) ToArrays() => (_counts.Keys.ToArray(), _counts.Values.ToArray());
}
