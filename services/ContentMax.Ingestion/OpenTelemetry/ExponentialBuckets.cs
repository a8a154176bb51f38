using ContentMax.Contracts;

namespace ContentMax.Ingestion.OpenTelemetry;

// OTLP exponential histogram buckets as the explicit bounds a Distribution
// holds (bucket i is (Bounds[i-1], Bounds[i]]).
//
// With base = 2^(2^-scale), positive bucket i covers (base^i, base^(i+1)] and
// negative bucket i covers [-base^(i+1), -base^i). Every bound is computed as
// 2^(i * 2^-scale): i * 2^-scale is exact in a double, so the bound of index
// 2i at scale s+1 is bit for bit the bound of index i at scale s. That is what
// lets storage carry a cumulative point's buckets over when the SDK downscales
// (CumulativeDeltas.Rebucket needs every old bound to reappear exactly).
//
// Intervals are laid out ascending: negative buckets from the highest index
// down, the zero bucket ((-zt, zt], or (-1e-12, 0] when the threshold is 0)
// when it holds anything, then positive buckets. Contiguous intervals share a
// bound, a gap gets an empty bucket, and the first (-inf, b0] and last
// (b_last, +inf) buckets stay empty, so a layout that later grows outward
// still contains every non-empty bucket of the earlier one.
public static class ExponentialBuckets
{
    public const double ZeroBucketLowerBound = -1e-12;

    public static double Bound(long index, int scale) => Math.Pow(2.0, Math.ScaleB((double)index, -scale));

    // The bounds and counts, or the reason they cannot be built.
    public static string? TryConvert(
        int scale, double zeroThreshold, ulong zeroCount,
        int positiveOffset, IReadOnlyList<ulong> positive,
        int negativeOffset, IReadOnlyList<ulong> negative,
        out double[] bounds, out long[] counts)
    {
        bounds = [];
        counts = [];
        if ((long)positive.Count + negative.Count > MetricRules.MaxBounds)
        {
            return $"has more than {MetricRules.MaxBounds} buckets";
        }

        var layout = new Layout(positive.Count + negative.Count + 4);
        for (var i = (long)negativeOffset + negative.Count - 1; i >= negativeOffset; i--)
        {
            if (!layout.Append(-Bound(i + 1, scale), -Bound(i, scale), negative[(int)(i - negativeOffset)]))
            {
                return layout.Problem;
            }
        }

        if (zeroCount > 0)
        {
            if (!(zeroThreshold >= 0) || !double.IsFinite(zeroThreshold)) return "has an invalid zero_threshold";
            var appended = zeroThreshold > 0
                ? layout.Append(-zeroThreshold, zeroThreshold, zeroCount)
                : layout.Append(ZeroBucketLowerBound, 0, zeroCount);
            if (!appended) return layout.Problem;
        }

        for (var i = (long)positiveOffset; i < (long)positiveOffset + positive.Count; i++)
        {
            if (!layout.Append(Bound(i, scale), Bound(i + 1, scale), positive[(int)(i - positiveOffset)]))
            {
                return layout.Problem;
            }
        }

        if (layout.Bounds.Count > MetricRules.MaxBounds) return $"needs more than {MetricRules.MaxBounds} bounds";
        if (layout.Bounds.Count == 0) return null; // nothing but empty ranges

        layout.Counts.Add(0); // (b_last, +inf)
        bounds = [.. layout.Bounds];
        counts = [.. layout.Counts];
        return null;
    }

    private sealed class Layout(int capacity)
    {
        public List<double> Bounds { get; } = new(capacity);

        // Starts with the empty (-inf, b0] bucket.
        public List<long> Counts { get; } = new(capacity) { 0 };

        public string Problem { get; private set; } = "";

        public bool Append(double lower, double upper, ulong count)
        {
            if (!double.IsFinite(lower) || !double.IsFinite(upper) || !(lower < upper))
            {
                Problem = "has bucket bounds beyond the range of a double (scale or offset out of range)";
                return false;
            }

            if (count > MetricRules.MaxObservations)
            {
                Problem = $"has a bucket count over {MetricRules.MaxObservations}";
                return false;
            }

            if (Bounds.Count == 0)
            {
                Bounds.Add(lower);
            }
            else if (lower > Bounds[^1])
            {
                Bounds.Add(lower); // a gap: an empty bucket up to this interval
                Counts.Add(0);
            }
            else if (lower < Bounds[^1])
            {
                Problem = "has overlapping buckets (a zero_threshold beyond the nearest buckets)";
                return false;
            }

            Bounds.Add(upper);
            Counts.Add((long)count);
            return true;
        }
    }
}
