using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// The product's percentile definitions over sorted values.
public static class Percentiles
{
    // The middle value, or the mean of the two middle values.
    public static double Median(double[] sorted)
    {
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 0 ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[mid];
    }

    // The value at nearest rank ceil(percent/100 × count), 1-based.
    public static double NearestRank(double[] sorted, int percent)
    {
        var rank = Rank(sorted.Length, percent);
        return sorted[rank - 1];
    }

    public static long Rank(long count, int percent) => Math.Max(1, (percent * count + 99) / 100);

    // Every figure of an aggregate from the sorted values: the exact answer
    // for a metric small enough to read in full.
    public static MetricAggregate Aggregate(double[] sorted, double sum) =>
        new(sorted.Length, sum, sorted[0], sorted[^1], sum / sorted.Length,
            Median(sorted), NearestRank(sorted, 75), NearestRank(sorted, 95), NearestRank(sorted, 99));
}
