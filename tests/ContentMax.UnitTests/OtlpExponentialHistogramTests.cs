using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;
using ContentMax.Ingestion.OpenTelemetry;
using ContentMax.Ingestion.OpenTelemetry.Proto.Metrics.V1;
using ContentMax.Ingestion.Protocols;

namespace ContentMax.UnitTests;

public class OtlpExponentialHistogramTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly ulong NowNanos = (ulong)Now.ToUnixTimeMilliseconds() * 1_000_000;

    private static (double[] Bounds, long[] Counts) Convert(int scale, double zeroThreshold, ulong zeroCount,
        int positiveOffset, ulong[] positive, int negativeOffset = 0, ulong[]? negative = null)
    {
        var problem = ExponentialBuckets.TryConvert(scale, zeroThreshold, zeroCount, positiveOffset, positive, negativeOffset, negative ?? [],
            out var bounds, out var counts);
        Assert.Null(problem);
        return (bounds, counts);
    }

    [Fact]
    public void Bound_OfTheSameBoundaryAtAnotherScale_IsTheIdenticalDouble()
    {
        for (var scale = -4; scale < 12; scale++)
        {
            for (long index = -300; index <= 300; index++)
            {
                Assert.Equal(
                    BitConverter.DoubleToInt64Bits(ExponentialBuckets.Bound(index, scale)),
                    BitConverter.DoubleToInt64Bits(ExponentialBuckets.Bound(index * 2, scale + 1)));
            }
        }

        Assert.Equal(1024.0, ExponentialBuckets.Bound(10, 0));
        Assert.Equal(Math.Sqrt(2), ExponentialBuckets.Bound(1, 1), 15);
        Assert.Equal(16.0, ExponentialBuckets.Bound(1, -2));
    }

    [Fact]
    public void PositiveBuckets_BecomeExplicitBounds_WithEmptyOuterBuckets()
    {
        // Scale 0: bucket i is (2^i, 2^(i+1)].
        var (bounds, counts) = Convert(0, 0, 0, positiveOffset: 2, positive: [3, 0, 5]);

        Assert.Equal([4.0, 8, 16, 32], bounds);
        Assert.Equal([0L, 3, 0, 5, 0], counts);
    }

    [Fact]
    public void NegativeZeroAndPositiveBuckets_AreLaidOutAscending_WithEmptyGaps()
    {
        var (bounds, counts) = Convert(0, zeroThreshold: 0, zeroCount: 4, positiveOffset: 0, positive: [1], negativeOffset: 1, negative: [2, 1]);

        // (-8,-4] index 2, (-4,-2] index 1, gap, zero bucket (-1e-12, 0], gap, (1, 2].
        Assert.Equal([-8.0, -4, -2, ExponentialBuckets.ZeroBucketLowerBound, 0, 1, 2], bounds);
        Assert.Equal([0L, 1, 2, 0, 4, 0, 1, 0], counts);
        Assert.Equal(8, counts.Sum());
    }

    [Fact]
    public void ZeroThreshold_MakesTheZeroBucketSymmetric_AndJoinsTouchingBuckets()
    {
        var (bounds, counts) = Convert(0, zeroThreshold: 1, zeroCount: 3, positiveOffset: 0, positive: [2]);

        Assert.Equal([-1.0, 1, 2], bounds);
        Assert.Equal([0L, 3, 2, 0], counts);
    }

    [Fact]
    public void EmptyZeroBucket_IsLeftOut()
    {
        var (bounds, counts) = Convert(1, zeroThreshold: 0, zeroCount: 0, positiveOffset: -2, positive: [1, 1], negativeOffset: -2, negative: [1]);

        var r = Math.Sqrt(2);
        Assert.Equal(5, bounds.Length);
        // Negative index -2 is (-2^-0.5, -0.5]; a gap holds zero; positives -2 and -1 are (0.5, 2^-0.5] and (2^-0.5, 1].
        Assert.Equal(-1 / r, bounds[0], 12);
        Assert.Equal(-0.5, bounds[1], 12);
        Assert.Equal(0.5, bounds[2], 12);
        Assert.Equal(1 / r, bounds[3], 12);
        Assert.Equal(1.0, bounds[4], 12);
        Assert.Equal([0L, 1, 0, 1, 1, 0], counts);
    }

    [Fact]
    public void ImpossibleLayouts_AreRefused()
    {
        string? Problem(int scale, double zt, ulong zc, int offset, ulong[] positive) =>
            ExponentialBuckets.TryConvert(scale, zt, zc, offset, positive, 0, [], out _, out _);

        Assert.NotNull(Problem(0, zt: 4, zc: 1, offset: 0, positive: [1]));           // zero bucket overlaps (1, 2]
        Assert.NotNull(Problem(-10, zt: 0, zc: 0, offset: 2000, positive: [1]));      // 2^(2000*1024) is not a double
        Assert.NotNull(Problem(0, zt: 0, zc: 0, offset: 0, positive: new ulong[MetricRules.MaxBounds + 1]));
        Assert.NotNull(Problem(0, zt: double.NaN, zc: 1, offset: 0, positive: [1]));
    }

    [Fact]
    public void DownscaledAndGrownLayout_CarriesOverInStorage_AndGivesTheNewObservationsAsDelta()
    {
        var random = new Random(7);
        var first = Enumerable.Range(0, 500).Select(_ => Math.Exp(random.NextDouble() * 4)).ToList();
        // Later observations reach below and above the first ones, and the SDK downscales from 3 to 2.
        var later = Enumerable.Range(0, 300).Select(_ => Math.Exp(random.NextDouble() * 8 - 2)).ToList();
        var earlierPoint = Point(first, scale: 3, zeroCount: 2, timeOffsetMs: 0);
        var laterPoint = Point([.. first, .. later], scale: 2, zeroCount: 5, timeOffsetMs: 10_000);

        var result = CumulativeDeltas.Apply([earlierPoint, laterPoint], new Dictionary<Guid, CumulativeState>(), TimeSpan.FromDays(7));

        // The first point counts whole (its start time is known and recent); the second gives the difference bucket by bucket.
        Assert.Equal(0, result.Resets);
        Assert.Equal(2, result.Deltas.Count);
        var delta = result.Deltas[1].Distribution!;
        Assert.Equal(later.Count + 3, delta.Count);
        Assert.Equal(laterPoint.Distribution!.Bounds, delta.Bounds);
        var expected = Bin(later, delta.Bounds);
        expected[Array.IndexOf(delta.Bounds, 0.0)] += 3; // three more zeros
        Assert.Equal(expected, delta.BucketCounts);
    }

    [Fact]
    public void ExponentialHistogram_MapsToAValidDistribution_AndCountMismatchIsRejected()
    {
        var metric = new Metric { Name = "latency", ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Delta } };
        var good = new ExponentialHistogramDataPoint { TimeUnixNano = NowNanos, Scale = 0, Count = 4, Sum = 20, Min = 3, Max = 9, Positive = new() { Offset = 1 } };
        good.Positive.BucketCounts.Add([1, 3]);
        var miscounted = good.Clone();
        miscounted.Count = 5;
        var noSum = good.Clone();
        noSum.ClearSum();
        metric.ExponentialHistogram.DataPoints.Add([good, miscounted, noSum]);
        var report = new MappingReport();

        var points = OtlpMetricsMapper.Map(OtlpMetricsMapperTests.Request([metric]), Now, report);

        var point = Assert.Single(points);
        Assert.Equal(20, point.Value);
        Assert.Null(point.Cumulative);
        Assert.Equal([2.0, 4, 8], point.Distribution!.Bounds);
        Assert.Equal([0L, 1, 3, 0], point.Distribution.BucketCounts);
        Assert.Equal(3, point.Distribution.Min);
        Assert.Empty(MetricRules.Check(point, Now));
        Assert.Equal(1, report.Rejected["count_mismatch"]);
        Assert.Equal(1, report.Rejected["missing_sum"]);
    }

    // A cumulative exponential histogram point of these positive values at the scale, as an SDK would export it.
    private static MetricPoint Point(List<double> values, int scale, ulong zeroCount, long timeOffsetMs)
    {
        var indexes = values.Select(v => IndexOf(v, scale)).ToList();
        var offset = indexes.Min();
        var buckets = new ulong[indexes.Max() - offset + 1];
        foreach (var index in indexes) buckets[index - offset]++;
        var metric = new Metric { Name = "latency", ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        var point = new ExponentialHistogramDataPoint
        {
            StartTimeUnixNano = NowNanos - 60_000_000_000,
            TimeUnixNano = NowNanos + (ulong)timeOffsetMs * 1_000_000,
            Scale = scale,
            ZeroCount = zeroCount,
            Count = (ulong)values.Count + zeroCount,
            Sum = values.Sum(),
            Positive = new() { Offset = (int)offset },
        };
        point.Positive.BucketCounts.Add(buckets);
        metric.ExponentialHistogram.DataPoints.Add(point);
        return Assert.Single(OtlpMetricsMapper.Map(OtlpMetricsMapperTests.Request([metric]), Now + TimeSpan.FromMinutes(1), new MappingReport()));
    }

    // The bucket (Bound(i), Bound(i+1)] that holds the value.
    private static long IndexOf(double value, int scale)
    {
        var index = (long)Math.Floor(Math.Log2(value) * Math.Pow(2, scale));
        while (ExponentialBuckets.Bound(index, scale) >= value) index--;
        while (ExponentialBuckets.Bound(index + 1, scale) < value) index++;
        return index;
    }

    private static long[] Bin(List<double> values, double[] bounds)
    {
        var counts = new long[bounds.Length + 1];
        foreach (var value in values)
        {
            var k = Array.BinarySearch(bounds, value);
            counts[k < 0 ? ~k : k]++;
        }

        return counts;
    }
}
