using ContentMax.Contracts;
using ContentMax.Monitoring.Client.Aggregation;

namespace ContentMax.Monitoring.Client.Tests;

public class LogBucketsTests
{
    public static TheoryData<double> Values => [1, -1, 0, 1e-9, -1e-9, 5e-10, 0.5, 2, 182.3, 1e6, 123456789.123, -0.001, -250, double.MaxValue, 1e-300];

    [Theory]
    [MemberData(nameof(Values))]
    public void EveryValue_LiesInTheRangeOfItsBucket(double value)
    {
        var (lower, upper) = LogBuckets.RangeOf(LogBuckets.KeyOf(value), 1);
        Assert.True(lower < value || Near(lower, value), $"{value} is below its bucket ({lower}, {upper}]");
        Assert.True(value <= upper || Near(upper, value), $"{value} is above its bucket ({lower}, {upper}]");
    }

    [Fact]
    public void RandomValues_LieInBucketsTwoPercentWide_OrderedLikeTheValues()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 20_000).Select(_ => (random.NextDouble() < 0.2 ? -1 : 1) * Math.Exp(random.NextDouble() * 40 - 20)).Order().ToArray();
        var previousKey = int.MinValue;
        foreach (var value in values)
        {
            var key = LogBuckets.KeyOf(value);
            Assert.True(key >= previousKey, "keys are not ordered like values");
            previousKey = key;
            var (lower, upper) = LogBuckets.RangeOf(key, 1);
            Assert.True((lower < value || Near(lower, value)) && (value <= upper || Near(upper, value)), $"{value} outside ({lower}, {upper}]");
            Assert.Equal(LogBuckets.Gamma, Math.Abs(upper) > Math.Abs(lower) ? upper / lower : lower / upper, 9);
        }

        // Relative accuracy 1%: the middle of a bucket is within 1% of everything in it.
        Assert.Equal(1.0202, LogBuckets.Gamma, 4);
    }

    [Fact]
    public void Encode_SendsOnlyOccupiedBuckets_WithOneEmptyBucketPerGap_AndEmptyEnds()
    {
        // Buckets of 1, of 1.01 (the next one up) and of 100: two neighbours and a gap.
        var keys = new[] { LogBuckets.KeyOf(1), LogBuckets.KeyOf(1.01), LogBuckets.KeyOf(100) };
        var d = LogBuckets.Encode(keys, [3, 2, 5], 10, 1, 100);

        var (l1, u1) = LogBuckets.RangeOf(keys[0], 1);
        var (_, u2) = LogBuckets.RangeOf(keys[1], 1);
        var (l3, u3) = LogBuckets.RangeOf(keys[2], 1);
        Assert.Equal([l1, u1, u2, l3, u3], d.Bounds);
        Assert.Equal([0, 3, 2, 0, 5, 0], d.BucketCounts);
        Assert.Equal(1, u1);
        Assert.Empty(MetricRules.CheckDistribution(d));
    }

    [Fact]
    public void Encode_ZeroAndNegativeValues_AreValidForTheServer()
    {
        var values = new[] { -500.0, -3, -3, 0, 0, 0, 2e-10, 1e-9, 4, 4.01 };
        var groups = values.GroupBy(LogBuckets.KeyOf).OrderBy(g => g.Key).ToArray();
        var d = LogBuckets.Encode([.. groups.Select(g => g.Key)], [.. groups.Select(g => (long)g.Count())], values.Length, values.Min(), values.Max());

        Assert.Empty(MetricRules.CheckDistribution(d));
        Assert.Equal(values.Length, d.BucketCounts.Sum());
        // Every observation lies in the bucket that counts it: (bounds[i-1], bounds[i]].
        for (var i = 0; i < d.BucketCounts.Length; i++)
        {
            var lower = i == 0 ? double.NegativeInfinity : d.Bounds[i - 1];
            var upper = i == d.Bounds.Length ? double.PositiveInfinity : d.Bounds[i];
            Assert.Equal(d.BucketCounts[i], values.Count(v => v > lower && v <= upper));
        }
    }

    [Fact]
    public void Encode_MoreBucketsThanTheServerTakes_MergesNeighbours_AndKeepsEveryCount()
    {
        // Every other bucket over a huge range: 3000 occupied buckets with gaps.
        var keys = Enumerable.Range(0, 3000).Select(i => LogBuckets.KeyOf(Math.Pow(LogBuckets.Gamma, 2 * i - 3000))).ToArray();
        var counts = keys.Select(_ => 1L).ToArray();
        var d = LogBuckets.Encode(keys, counts, keys.Length, 1e-10, 1e10);

        Assert.InRange(d.Bounds.Length, 2, MetricRules.MaxBounds);
        Assert.Equal(keys.Length, d.BucketCounts.Sum());
        Assert.Empty(MetricRules.CheckDistribution(d));
    }

    private static bool Near(double a, double b) => Math.Abs(a - b) <= 1e-12 * Math.Max(Math.Abs(a), Math.Abs(b));
}
