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
//
// Two ways to hold the counts, chosen by which costs less memory:
//   - sparse, a dictionary of buckets (~36 bytes per bucket): where a sketch
//     starts, and where a few values spread over a wide range stay (a
//     write's rollup row of a few hundred values);
//   - paged (Bins), pages of 32 adjacent buckets (8 bytes per bucket of a
//     page in use) in one table for positive keys and one for negative keys
//     by magnitude: where merged sketches end up (an explorer chart holds one
//     per group and step, each with hundreds of buckets close together), and
//     merging there adds arrays.
// A sparse sketch checks each time its bucket count doubles from 64 whether
// pages would take less memory, and moves to them if so.
public sealed class LogSketch
{
    public const double RelativeAccuracy = 0.005;
    public const double MinMagnitude = 1e-9;
    private const int Offset = 100_000;

    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    // Approximate bytes per bucket of a dictionary (entry, bucket index, free
    // capacity) and per page (its array), to choose the cheaper form.
    private const int SparseBytesPerBucket = 36;
    private const int FirstDensityCheck = 64;

    // Null once the sketch is paged.
    private Dictionary<int, long>? _sparse = new();
    private int _nextDensityCheck = FirstDensityCheck;

    private Bins _positive;
    private Bins _negative;
    private long _zero;

    public long Count { get; private set; }

    public bool IsPaged => _sparse is null;

    // Buckets holding at least one observation.
    public int BucketCount => _sparse?.Count ?? _positive.Used + _negative.Used + (_zero > 0 ? 1 : 0);

    // The values of the lowest and highest buckets (empty sketch: NaN).
    public double LowestValue => Count == 0
        ? double.NaN
        : ValueOf(_sparse is not null ? _sparse.Keys.Min() : _negative.Used > 0 ? -_negative.Highest() : _zero > 0 ? 0 : _positive.Lowest());

    public double HighestValue => Count == 0
        ? double.NaN
        : ValueOf(_sparse is not null ? _sparse.Keys.Max() : _positive.Used > 0 ? _positive.Highest() : _zero > 0 ? 0 : -_negative.Lowest());

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
        Count += count;
        if (_sparse is not null)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_sparse, key, out _) += count;
            if (_sparse.Count >= _nextDensityCheck) ConsiderPages();
            return;
        }

        AddPaged(key, count);
    }

    public void Merge(LogSketch other)
    {
        if (other.Count == 0) return;
        if (_sparse is null && other._sparse is null)
        {
            _positive.Merge(ref other._positive);
            _negative.Merge(ref other._negative);
            _zero += other._zero;
            Count += other.Count;
            return;
        }

        if (other._sparse is not null)
        {
            foreach (var (key, count) in other._sparse) AddKey(key, count);
            return;
        }

        // A paged sketch into a sparse one: the result is at least as dense.
        MoveToPages();
        Merge(other);
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
    public double ValueAtRank(long rank, double min, double max) => ValuesAtRanks([rank], min, max)[0];

    // Several ranks (in any order) in one pass over the sorted buckets.
    public double[] ValuesAtRanks(long[] ranks, double min, double max)
    {
        if (Count == 0) throw new InvalidOperationException("The sketch is empty.");
        var result = new double[ranks.Length];
        var pending = new List<int>(ranks.Length);
        for (var r = 0; r < ranks.Length; r++)
        {
            var rank = Math.Clamp(ranks[r], 1, Count);
            if (rank == 1) result[r] = min;
            else if (rank == Count) result[r] = max;
            else pending.Add(r);
        }

        if (pending.Count == 0) return result;
        pending.Sort((a, b) => ranks[a].CompareTo(ranks[b]));
        var next = 0;
        long seen = 0;
        foreach (var (key, count) in Keys())
        {
            seen += count;
            while (next < pending.Count && seen >= ranks[pending[next]])
            {
                result[pending[next++]] = Math.Clamp(ValueOf(key), min, max);
            }

            if (next == pending.Count) return result;
        }

        for (; next < pending.Count; next++) result[pending[next]] = max;
        return result;
    }

    public (int[] Keys, long[] Counts) ToArrays()
    {
        var keys = new int[BucketCount];
        var counts = new long[keys.Length];
        var i = 0;
        foreach (var (key, count) in Keys())
        {
            keys[i] = key;
            counts[i++] = count;
        }

        return (keys, counts);
    }

    // Every non-empty bucket in key (that is, value) order.
    private IEnumerable<(int Key, long Count)> Keys()
    {
        if (_sparse is not null)
        {
            var buckets = _sparse.ToArray();
            Array.Sort(buckets, (a, b) => a.Key.CompareTo(b.Key));
            foreach (var (key, count) in buckets) yield return (key, count);
            yield break;
        }

        foreach (var (magnitude, count) in _negative.Descending()) yield return (-magnitude, count);
        if (_zero > 0) yield return (0, _zero);
        foreach (var bucket in _positive.Ascending()) yield return bucket;
    }

    private void AddPaged(int key, long count)
    {
        if (key > 0) _positive.Add(key, count);
        else if (key < 0) _negative.Add(-key, count);
        else _zero += count;
    }

    // Moves to pages if they would take less memory than the dictionary.
    private void ConsiderPages()
    {
        _nextDensityCheck *= 2;
        var keys = _sparse!.Keys;
        var paged = PagedBytes(keys.Where(k => k > 0)) + PagedBytes(keys.Where(k => k < 0).Select(k => -k));
        if (paged < (long)_sparse.Count * SparseBytesPerBucket) MoveToPages();
    }

    // What pages would cost for keys of one sign (by magnitude): the distinct
    // pages, and the table's slots over their span.
    private static long PagedBytes(IEnumerable<int> magnitudes)
    {
        var pages = magnitudes.Select(m => m >> Bins.PageBits).Distinct().ToList();
        return pages.Count == 0 ? 0 : pages.Count * (long)Bins.PageBytes + (pages.Max() - pages.Min() + 1) * 8L;
    }

    private void MoveToPages()
    {
        var sparse = _sparse!;
        _sparse = null;
        foreach (var (key, count) in sparse) AddPaged(key, count);
    }

    // Counts of positive keys in pages of PageSize adjacent keys; the page
    // table covers the pages from the lowest to the highest one used, and
    // holds null for pages with nothing in them.
    private struct Bins
    {
        public const int PageBits = 5;
        private const int PageSize = 1 << PageBits;

        // A page's array: its counts and the array's header.
        public const int PageBytes = PageSize * sizeof(long) + 24;
        private const int PageMask = PageSize - 1;

        private long[]?[]? _pages;
        private int _firstPage;

        public int Used { get; private set; }

        public void Add(int key, long count)
        {
            ref var bin = ref Page(key >> PageBits)[key & PageMask];
            if (bin == 0) Used++;
            bin += count;
        }

        public void Merge(ref Bins other)
        {
            if (other._pages is null) return;
            for (var p = 0; p < other._pages.Length; p++)
            {
                if (other._pages[p] is not { } source) continue;
                var target = Page(other._firstPage + p);
                for (var i = 0; i < PageSize; i++)
                {
                    if (source[i] == 0) continue;
                    if (target[i] == 0) Used++;
                    target[i] += source[i];
                }
            }
        }

        // The lowest and highest keys held (a sketch with Used > 0).
        public readonly int Lowest()
        {
            var p = Array.FindIndex(_pages!, page => page is not null);
            return ((_firstPage + p) << PageBits) + Array.FindIndex(_pages![p]!, count => count != 0);
        }

        public readonly int Highest()
        {
            var p = Array.FindLastIndex(_pages!, page => page is not null);
            return ((_firstPage + p) << PageBits) + Array.FindLastIndex(_pages![p]!, count => count != 0);
        }

        public readonly IEnumerable<(int Key, long Count)> Ascending()
        {
            if (_pages is null) yield break;
            for (var p = 0; p < _pages.Length; p++)
            {
                if (_pages[p] is not { } page) continue;
                for (var i = 0; i < PageSize; i++)
                {
                    if (page[i] != 0) yield return (((_firstPage + p) << PageBits) + i, page[i]);
                }
            }
        }

        public readonly IEnumerable<(int Key, long Count)> Descending()
        {
            if (_pages is null) yield break;
            for (var p = _pages.Length - 1; p >= 0; p--)
            {
                if (_pages[p] is not { } page) continue;
                for (var i = PageSize - 1; i >= 0; i--)
                {
                    if (page[i] != 0) yield return (((_firstPage + p) << PageBits) + i, page[i]);
                }
            }
        }

        // The page, allocated (and the table widened) on first use.
        private long[] Page(int page)
        {
            if (_pages is null)
            {
                _pages = new long[]?[1];
                _firstPage = page;
            }
            else if (page < _firstPage || page >= _firstPage + _pages.Length)
            {
                // Widen with room to spare on the side that grew, so values
                // arriving in rising or falling order do not copy the table each time.
                var first = Math.Min(page, _firstPage);
                var end = Math.Max(page + 1, _firstPage + _pages.Length);
                var spare = Math.Max(4, (end - first) / 2);
                if (page < _firstPage) first = Math.Max(0, first - spare);
                else end += spare;
                var pages = new long[]?[end - first];
                Array.Copy(_pages, 0, pages, _firstPage - first, _pages.Length);
                (_pages, _firstPage) = (pages, first);
            }

            return _pages[page - _firstPage] ??= new long[PageSize];
        }
    }
}
