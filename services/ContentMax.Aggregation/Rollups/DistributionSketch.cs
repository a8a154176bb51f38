using ContentMax.Contracts;

namespace ContentMax.Aggregation.Rollups;

// Turns a point that stands for many observations (an explicit-bucket
// histogram) into LogSketch buckets, so it merges into rollups like any
// other points.
//
// Where the observations sit inside a bucket is unknown. Like Prometheus's
// histogram_quantile, the mapping assumes they are spread evenly: a bucket's
// count is split over up to MaxSlices equal slices of (lower, upper], each at
// the sketch key of its middle. The open-ended first and last buckets are
// closed with the point's exact min and max when it has them (OpenTelemetry
// sends both); otherwise their observations sit at their finite bound.
//
// So a percentile of histogram data is within the bucket that holds the true
// rank (and within the sketch's 0.5% of the linear estimate inside it): the
// error is the bucket layout's. Count, sum, min and max stay exact.
public static class DistributionSketch
{
    public const int MaxSlices = 16;

    public static void AddTo(LogSketch sketch, Distribution d, double sum)
    {
        if (d.Bounds.Length == 0)
        {
            // Only count and sum are known: every observation at the mean.
            var mean = sum / d.Count;
            if (d.Min is { } min) mean = Math.Max(mean, min);
            if (d.Max is { } max) mean = Math.Min(mean, max);
            sketch.Add(mean, d.Count);
            return;
        }

        var bounds = d.Bounds;
        for (var i = 0; i < d.BucketCounts.Length; i++)
        {
            var count = d.BucketCounts[i];
            if (count <= 0) continue;

            var lower = i == 0 ? d.Min ?? bounds[0] : bounds[i - 1];
            var upper = i == bounds.Length ? d.Max ?? bounds[^1] : bounds[i];
            if (d.Min is { } lo)
            {
                lower = Math.Max(lower, lo);
                upper = Math.Max(upper, lo);
            }

            if (d.Max is { } hi)
            {
                lower = Math.Min(lower, hi);
                upper = Math.Min(upper, hi);
            }

            if (upper <= lower)
            {
                sketch.Add(upper, count);
                continue;
            }

            var slices = (int)Math.Min(count, MaxSlices);
            var width = (upper - lower) / slices;
            for (var s = 0; s < slices; s++)
            {
                // Whole observations per slice, adding up to the bucket's count.
                var share = count * (s + 1) / slices - count * s / slices;
                sketch.Add(lower + width * (s + 0.5), share);
            }
        }
    }
}
