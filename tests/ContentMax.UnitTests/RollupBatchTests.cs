using ContentMax.Aggregation.Rollups;
using ContentMax.Contracts;

namespace ContentMax.UnitTests;

public class RollupBatchTests
{
    private static readonly long Hour = new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static MetricPoint Point(string name, long ts, double value) => new() { Id = Guid.NewGuid(), Metric = name, Value = value, Timestamp = ts };

    [Fact]
    public void Points_AreGroupedPerMinuteAndName_AndHoursMergeTheirMinutes()
    {
        var batch = new RollupBatch();
        batch.Add(Point("a", Hour + 1_000, 5), null);
        batch.Add(Point("a", Hour + 59_999, 1), null);
        batch.Add(Point("a", Hour + 60_000, 9), null);
        batch.Add(Point("b", Hour + 2_000, 3), null);
        batch.Add(Point("a", Hour + 3_600_000, 2), null);

        Assert.Equal(4, batch.Minutes.Count);
        var first = batch.Minutes.Single(m => m.Name == "a" && m.BucketMs == Hour);
        Assert.Equal((2L, 6.0, 1.0, 5.0), (first.Count, first.Sum, first.Min, first.Max));

        var hours = batch.Hours();
        var a = hours.Single(h => h.Name == "a" && h.BucketMs == Hour);
        Assert.Equal((3L, 15.0, 1.0, 9.0, 3L), (a.Count, a.Sum, a.Min, a.Max, a.Sketch.Count));
        Assert.Equal(3, hours.Count);
        Assert.Equal(new DateTime(2026, 11, 29, 11, 0, 0, DateTimeKind.Utc), hours.Single(h => h.BucketMs == Hour + 3_600_000).Bucket);
    }

    [Fact]
    public void Distribution_CountsAllItsObservations()
    {
        var batch = new RollupBatch();
        var point = Point("latency", Hour, 600) with { Distribution = new Distribution { Count = 4, Bounds = [100], BucketCounts = [1, 3], Min = 50, Max = 400 } };
        var sketch = new LogSketch();
        DistributionSketch.AddTo(sketch, point.Distribution!, point.Value);
        batch.Add(point, sketch);
        batch.Add(Point("latency", Hour + 10, 20), null);

        var row = Assert.Single(batch.Minutes);
        Assert.Equal((5L, 620.0, 20.0, 400.0, 4L), (row.Count, row.Sum, row.Min, row.Max, row.DistCount));
        Assert.Equal(5, row.Sketch.Count);
    }

    [Fact]
    public void TimestampsBefore1970_FloorDownwards()
    {
        var batch = new RollupBatch();
        batch.Add(Point("a", -1, 1), null);
        Assert.Equal(-60_000, Assert.Single(batch.Minutes).BucketMs);
    }
}
