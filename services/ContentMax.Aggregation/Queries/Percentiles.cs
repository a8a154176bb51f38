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
}
