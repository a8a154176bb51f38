using ContentMax.Aggregation.Queries;
using ContentMax.Aggregation.Rollups;
using ContentMax.Contracts;

namespace ContentMax.UnitTests;

public class DistributionSketchTests
{
    private static LogSketch Map(Distribution d, double sum)
    {
        var sketch = new LogSketch();
        DistributionSketch.AddTo(sketch, d, sum);
        return sketch;
    }

    [Fact]
    public void EveryObservation_IsKept()
    {
        long[] counts = [3, 100, 1000, 100_000, 400_000, 400_000, 99_900, 1000];
        var d = new Distribution { Count = counts.Sum(), Min = 0.5, Max = 20_000, Bounds = [5, 10, 25, 50, 100, 250, 1000], BucketCounts = counts };
        Assert.Equal(d.Count, Map(d, 1e8).Count);
    }

    [Fact]
    public void Percentile_FallsInsideTheBucketHoldingTheTrueRank()
    {
        // Values drawn from a log-normal, bucketed as OpenTelemetry's default explicit layout.
        double[] bounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
        var random = new Random(3);
        var values = Enumerable.Range(0, 50_000).Select(_ => Math.Exp(4 + random.NextDouble() * 2.5)).Order().ToArray();
        var counts = new long[bounds.Length + 1];
        foreach (var v in values) counts[Array.FindIndex(bounds, b => v <= b) is var i and >= 0 ? i : bounds.Length]++;
        var d = new Distribution { Count = values.Length, Min = values[0], Max = values[^1], Bounds = bounds, BucketCounts = counts };

        var builder = new AggregateBuilder();
        builder.AddDistribution(d.Count, values.Sum(), d.Min, d.Max, [.. Map(d, values.Sum()).ToArrays().Keys], [.. Map(d, values.Sum()).ToArrays().Counts]);
        var aggregate = builder.ToAggregate();

        foreach (var (percent, estimate) in new[] { (50, aggregate.Median), (95, aggregate.P95), (99, aggregate.P99) })
        {
            var exact = values[(int)Percentiles.Rank(values.Length, percent) - 1];
            var bucket = Array.FindIndex(bounds, b => exact <= b);
            var lower = bucket <= 0 ? values[0] : bounds[bucket - 1];
            var upper = bucket < 0 ? values[^1] : bounds[bucket];
            Assert.InRange(estimate, lower * 0.995, upper * 1.005);
        }

        Assert.False(aggregate.Exact);
        Assert.Equal(values[0], aggregate.Min);
        Assert.Equal(values[^1], aggregate.Max);
    }

    [Fact]
    public void OpenEndedBuckets_AreClosedByMinAndMax()
    {
        var sketch = Map(new Distribution { Count = 2, Min = 3, Max = 7000, Bounds = [10, 100], BucketCounts = [1, 0, 1] }, 7003);
        Assert.InRange(sketch.LowestValue, 3 * 0.99, 10);
        Assert.InRange(sketch.HighestValue, 100, 7000 * 1.01);
    }

    [Fact]
    public void WithoutBounds_EveryObservationSitsAtTheMean()
    {
        var sketch = Map(new Distribution { Count = 4, Min = 1, Max = 9 }, 20);
        Assert.Equal(1, sketch.BucketCount);
        Assert.InRange(sketch.LowestValue, 5 * 0.995, 5 * 1.005);
    }
}
