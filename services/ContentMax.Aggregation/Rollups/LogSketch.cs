using System.Buffers.Binary;

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

    // Unordered while merging (the hot part of a query); sorted once when read.
    private readonly Dictionary<int, long> _counts = new();

    public long Count { get; private set; }

    public int BucketCount => _counts.Count;

    // The values of the lowest and highest buckets (empty sketch: NaN).
    public double LowestValue => _counts.Count == 0 ? double.NaN : ValueOf(_counts.Keys.Min());

    public double HighestValue => _counts.Count == 0 ? double.NaN : ValueOf(_counts.Keys.Max());

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
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, key, out _) += count;
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

    // The bytes of PackedSize per bucket that sketch_pack writes (key int4,
    // count int8, big-endian; 0018_packed_sketches.sql), in any order.
    public void MergePacked(ReadOnlySpan<byte> packed)
    {
        if (packed.Length % PackedSize != 0) throw new FormatException($"A packed sketch is {PackedSize} bytes per bucket, not {packed.Length} bytes in all.");
        for (var i = 0; i < packed.Length; i += PackedSize)
        {
            AddKey(BinaryPrimitives.ReadInt32BigEndian(packed[i..]), BinaryPrimitives.ReadInt64BigEndian(packed[(i + 4)..]));
        }
    }

    public const int PackedSize = 12;

    // The value at 1-based rank in sorted order, clamped to the exact extremes.
    public double ValueAtRank(long rank, double min, double max)
    {
        if (Count == 0) throw new InvalidOperationException("The sketch is empty.");
        rank = Math.Clamp(rank, 1, Count);
        if (rank == 1) return min;
        if (rank == Count) return max;

        long seen = 0;
        foreach (var (key, count) in _counts.OrderBy(kv => kv.Key))
        {
            seen += count;
            if (seen >= rank) return Math.Clamp(ValueOf(key), min, max);
        }

        return max;
    }

    // Several ranks in one pass over the sorted buckets.
    public double[] ValuesAtRanks(long[] ranks, double min, double max)
    {
        var (keys, counts) = ToArrays();
        var result = new double[ranks.Length];
        for (var r = 0; r < ranks.Length; r++)
        {
            var rank = Math.Clamp(ranks[r], 1, Math.Max(1, Count));
            if (rank == 1) { result[r] = min; continue; }
            if (rank == Count) { result[r] = max; continue; }
            long seen = 0;
            result[r] = max;
            for (var i = 0; i < keys.Length; i++)
            {
                seen += counts[i];
                if (seen >= rank)
                {
                    result[r] = Math.Clamp(ValueOf(keys[i]), min, max);
                    break;
                }
            }
        }

        return result;
    }

    public (int[] Keys, long[] Counts) ToArrays()
    {
        var keys = _counts.Keys.ToArray();
        Array.Sort(keys);
        return (keys, keys.Select(k => _counts[k]).ToArray());
    }
}
