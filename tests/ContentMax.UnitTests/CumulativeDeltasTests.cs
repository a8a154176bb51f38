using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;

namespace ContentMax.UnitTests;

public class CumulativeDeltasTests
{
    private static readonly Guid Series = Guid.NewGuid();
    private const long Start = 1_795_694_000_000;
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    private static MetricPoint Sum(long ts, double total, long start = Start, Guid? series = null) => new()
    {
        Id = Guid.NewGuid(), Metric = "requests", Value = total, Timestamp = ts,
        Cumulative = new CumulativeSeries { Series = series ?? Series, StartTime = start },
    };

    private static MetricPoint Histogram(long ts, long[] counts, double sum, double[]? bounds = null, double? min = null, double? max = null, long start = Start) => new()
    {
        Id = Guid.NewGuid(), Metric = "latency", Value = sum, Timestamp = ts,
        Distribution = new Distribution { Count = counts.Sum(), Bounds = bounds ?? [10, 100], BucketCounts = counts, Min = min, Max = max },
        Cumulative = new CumulativeSeries { Series = Series, StartTime = start },
    };

    // Feeds the points one write at a time, carrying the states over as storage does.
    private static List<MetricPoint> Run(params MetricPoint[][] writes)
    {
        var states = new Dictionary<Guid, CumulativeState>();
        var deltas = new List<MetricPoint>();
        foreach (var write in writes)
        {
            var result = CumulativeDeltas.Apply(write, states, MaxAge);
            deltas.AddRange(result.Deltas);
            foreach (var state in result.States) states[state.Series] = state;
        }

        return deltas;
    }

    [Fact]
    public void ExportedManyTimes_CountsEachIncreaseOnce()
    {
        var deltas = Run([Sum(Start + 1000, 5)], [Sum(Start + 2000, 5)], [Sum(Start + 3000, 12)], [Sum(Start + 3000, 12)], [Sum(Start + 4000, 20)]);

        Assert.Equal([5.0, 7.0, 8.0], deltas.Select(d => d.Value));
        Assert.All(deltas, d => Assert.Null(d.Cumulative));
    }

    [Fact]
    public void RetriedExport_InTheSameWrite_IsARepeat()
    {
        var result = CumulativeDeltas.Apply([Sum(Start + 1000, 5), Sum(Start + 1000, 5), Sum(Start + 2000, 9)], new Dictionary<Guid, CumulativeState>(), MaxAge);

        Assert.Equal([5.0, 4.0], result.Deltas.Select(d => d.Value));
        Assert.Equal(1, result.Repeats);
    }

    [Fact]
    public void OutOfOrderPoint_AddsNothing()
    {
        var deltas = Run([Sum(Start + 3000, 12)], [Sum(Start + 2000, 9)], [Sum(Start + 4000, 15)]);
        Assert.Equal([12.0, 3.0], deltas.Select(d => d.Value));
    }

    [Fact]
    public void RestartWithNewStartTime_CountsTheNewTotalWhole()
    {
        var deltas = Run([Sum(Start + 1000, 50)], [Sum(Start + 2000, 80)], [Sum(Start + 5000, 3, start: Start + 4000)], [Sum(Start + 6000, 10, start: Start + 4000)]);
        Assert.Equal([50.0, 30.0, 3.0, 7.0], deltas.Select(d => d.Value));
    }

    [Fact]
    public void DropInValue_WithoutStartTime_IsAReset()
    {
        // Prometheus: no start time, so the first sample is only the baseline.
        var deltas = Run([Sum(Start + 1000, 50, start: 0)], [Sum(Start + 2000, 80, start: 0)], [Sum(Start + 3000, 4, start: 0)], [Sum(Start + 4000, 6, start: 0)]);
        Assert.Equal([30.0, 4.0, 2.0], deltas.Select(d => d.Value));
    }

    [Fact]
    public void FirstPoint_WithAStartLongAgo_IsOnlyTheBaseline()
    {
        var old = Start - (long)TimeSpan.FromDays(30).TotalMilliseconds;
        var deltas = Run([Sum(Start, 1_000_000, start: old)], [Sum(Start + 1000, 1_000_004, start: old)]);
        Assert.Equal([4.0], deltas.Select(d => d.Value));
    }

    [Fact]
    public void UnchangedCounter_StoresNothing()
    {
        var deltas = Run([Sum(Start + 1000, 5)], [Sum(Start + 2000, 5)], [Sum(Start + 3000, 5)]);
        Assert.Equal([5.0], deltas.Select(d => d.Value));
    }

    [Fact]
    public void Histogram_IsSubtractedBucketByBucket_WithExtremesOnlyWhenTheyMoved()
    {
        var deltas = Run(
            [Histogram(Start + 1000, [1, 2, 0], 60, min: 4, max: 50)],
            [Histogram(Start + 2000, [1, 5, 2], 900, min: 4, max: 300)],
            [Histogram(Start + 3000, [3, 5, 2], 905, min: 1, max: 300)]);

        Assert.Equal(3, deltas.Count);
        Assert.Equal([1L, 2, 0], deltas[0].Distribution!.BucketCounts);
        Assert.Equal((4.0, 50.0), (deltas[0].Distribution!.Min!.Value, deltas[0].Distribution!.Max!.Value));

        var second = deltas[1].Distribution!;
        Assert.Equal([0L, 3, 2], second.BucketCounts);
        Assert.Equal(5, second.Count);
        Assert.Equal(840, deltas[1].Value);
        Assert.Null(second.Min);      // the running minimum did not move: unknown for this interval
        Assert.Equal(300, second.Max); // it moved: this interval held it

        var third = deltas[2].Distribution!;
        Assert.Equal([2L, 0, 0], third.BucketCounts);
        Assert.Equal(1, third.Min);
        Assert.Null(third.Max);
    }

    [Fact]
    public void Histogram_WhoseLayoutCoarsened_IsRebucketedFirst()
    {
        // An exponential histogram downscaling: every new bound was an old one.
        var deltas = Run(
            [Histogram(Start + 1000, [1, 1, 1, 1, 1], 50, bounds: [1, 2, 4, 8])],
            [Histogram(Start + 2000, [3, 3, 2], 80, bounds: [2, 8])]);

        // Old buckets ≤1, (1,2], (2,4], (4,8], >8 merge into ≤2, (2,8], >8 as [2, 2, 1].
        Assert.Equal([1L, 1, 1], deltas[1].Distribution!.BucketCounts);
    }

    [Fact]
    public void Histogram_WithAnUnrelatedLayout_IsAReset()
    {
        var deltas = Run(
            [Histogram(Start + 1000, [1, 1, 1], 50, bounds: [1, 2])],
            [Histogram(Start + 2000, [2, 2, 2], 80, bounds: [1, 3])]);

        Assert.Equal([2L, 2, 2], deltas[1].Distribution!.BucketCounts);
    }

    [Fact]
    public void Rebucket_RefusesBoundsThatSplitAnOldBucketWithObservations()
    {
        var last = new CumulativeState(Series, Start, Start, 0, 3, Bounds: [1, 4], BucketCounts: [1, 1, 1]);
        Assert.Null(CumulativeDeltas.Rebucket(last, [1, 2, 4]));
        Assert.Equal([2L, 1], CumulativeDeltas.Rebucket(last, [4])!);
    }

    [Fact]
    public void Rebucket_CarriesOverALayoutThatGrewToNewRanges()
    {
        // An exponential histogram's range grew downwards and upwards: the old
        // open-ended buckets were empty, so new bounds inside them split nothing.
        var last = new CumulativeState(Series, Start, Start, 0, 3, Bounds: [4, 8, 16], BucketCounts: [0, 2, 1, 0]);
        Assert.Equal([0L, 0, 2, 1, 0, 0], CumulativeDeltas.Rebucket(last, [2, 4, 8, 16, 32])!);
        var occupiedOverflow = last with { BucketCounts = [0, 2, 1, 5] };
        Assert.Null(CumulativeDeltas.Rebucket(occupiedOverflow, [2, 4, 8, 16, 32]));
    }

    [Fact]
    public void SeriesAreIndependent()
    {
        var other = Guid.NewGuid();
        var deltas = Run([Sum(Start + 1000, 5), Sum(Start + 1000, 100, series: other)], [Sum(Start + 2000, 6), Sum(Start + 2000, 150, series: other)]);
        Assert.Equal([1.0, 5.0, 50.0, 100.0], deltas.Select(d => d.Value).Order());
    }
}
