using ContentMax.Contracts;

namespace ContentMax.Monitoring.Client.Aggregation;

// Logarithmic buckets of relative accuracy ~1% (DDSketch-style), keyed so that
// key order is value order, and their encoding as the explicit-bucket
// histogram the server accepts.
//
//   positive v: index k = ceil(log_gamma(v)),       bucket (gamma^(k-1), gamma^k]
//   negative v: index k = floor(log_gamma(|v|)) + 1, bucket (-gamma^k, -gamma^(k-1)]
//   v in (-MinMagnitude, MinMagnitude]: the zero bucket, which the buckets
//   next to it end at
// with gamma = (1 + a) / (1 - a), a = 1%. Negative indexes use floor + 1 so
// that, like positive ones, a bucket holds its upper edge: the server reads
// bucket i as (bounds[i-1], bounds[i]].
//
// Only occupied buckets are sent: their edges are the bounds, a gap between two
// of them is one empty bucket, and the first and last buckets (to -inf and
// +inf) are empty. The server spreads a bucket's count evenly over its range
// and maps it onto its own 0.5% sketch, so percentiles stay within ~1%.
internal static class LogBuckets
{
    public const double RelativeAccuracy = 0.01;

    // The server's LogSketch treats smaller magnitudes as zero too.
    public const double MinMagnitude = 1e-9;

    public static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    // Keys: positive Offset + k, zero 0, negative -(Offset + k). Indexes of
    // doubles from MinMagnitude to double.MaxValue lie within about ±36,000.
    private const int Offset = 50_000;

    public static int KeyOf(double value)
    {
        if (value > 0)
        {
            // The value every request-count observation has, without a logarithm.
            if (value == 1) return Offset;
            return value <= MinMagnitude ? 0 : Offset + (int)Math.Ceiling(Math.Log(value) / LogGamma);
        }

        var magnitude = -value;
        if (magnitude < MinMagnitude) return 0;
        return -(Offset + (int)Math.Floor(Math.Log(magnitude) / LogGamma) + 1);
    }

    // The (lower, upper] range of a key, with `scale` buckets merged into one
    // (scale 1: the buckets as recorded).
    public static (double Lower, double Upper) RangeOf(int key, int scale)
    {
        if (key == 0) return (-MinMagnitude, MinMagnitude);
        var index = Math.Abs(key) - Offset;
        var j = CeilingDivide(index, scale);
        // The buckets next to zero end where the zero bucket begins.
        var low = Math.Max(Math.Pow(Gamma, (double)scale * (j - 1)), MinMagnitude);
        var high = Math.Pow(Gamma, (double)scale * j);
        return key > 0 ? (low, high) : (-high, -low);
    }

    // The key of the merged bucket a key falls into at `scale`.
    public static int Merge(int key, int scale)
    {
        if (key == 0 || scale == 1) return key;
        var index = Math.Abs(key) - Offset;
        var merged = Offset + CeilingDivide(index, scale);
        return key > 0 ? merged : -merged;
    }

    // Occupied buckets (keys ascending, counts > 0) as an explicit-bucket
    // histogram. When the layout needs more bounds than the server takes,
    // neighbouring buckets are merged in pairs until it fits: accuracy falls
    // (to ~2%, ~4%, ...) only for points whose values span a huge range.
    public static Distribution Encode(ReadOnlySpan<int> keys, ReadOnlySpan<long> counts, long count, double min, double max)
    {
        for (var scale = 1; ; scale *= 2)
        {
            if (TryEncode(keys, counts, scale, out var bounds, out var bucketCounts))
            {
                return new Distribution { Count = count, Min = min, Max = max, Bounds = bounds, BucketCounts = bucketCounts };
            }
        }
    }

    private static bool TryEncode(ReadOnlySpan<int> keys, ReadOnlySpan<long> counts, int scale, out double[] bounds, out long[] bucketCounts)
    {
        var b = new List<double>(keys.Length * 2 + 1);
        var c = new List<long>(keys.Length * 2 + 2);
        for (var i = 0; i < keys.Length; i++)
        {
            var merged = Merge(keys[i], scale);
            var n = counts[i];
            // Keys merged into the same bucket as the previous one add to it.
            while (i + 1 < keys.Length && Merge(keys[i + 1], scale) == merged)
            {
                n += counts[++i];
            }

            var (lower, upper) = RangeOf(merged, scale);
            if (b.Count == 0)
            {
                b.Add(lower);
                c.Add(0); // (-inf, lower]
            }
            else if (b[^1] < lower)
            {
                b.Add(lower);
                c.Add(0); // the gap (previous upper, lower]
            }
            else if (upper <= b[^1])
            {
                // Ranges do not overlap (those next to zero are cut at the zero
                // bucket); should rounding ever make one, its observations join the bucket before.
                c[^1] += n;
                continue;
            }

            b.Add(upper);
            c.Add(n);
            if (b.Count > MetricRules.MaxBounds)
            {
                bounds = [];
                bucketCounts = [];
                return false;
            }
        }

        c.Add(0); // (last upper, +inf)
        bounds = [.. b];
        bucketCounts = [.. c];
        return true;
    }

    private static int CeilingDivide(int a, int b) => (int)Math.Ceiling((double)a / b);
}
