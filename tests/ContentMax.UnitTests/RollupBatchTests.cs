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

    [Fact]
    public void TaggedRows_KeepOnlyTheRollupKeys_AndPointsWithoutAnyAddNoTaggedRow()
    {
        var batch = new RollupBatch(["status", "route"]);
        batch.Add(Point("api", Hour + 1, 10) with { Tags = new() { ["route"] = "/a", ["status"] = "200", ["user"] = "u1" } }, null);
        batch.Add(Point("api", Hour + 2, 30) with { Tags = new() { ["status"] = "200", ["route"] = "/a", ["user"] = "u2" } }, null);
        batch.Add(Point("api", Hour + 3, 5) with { Tags = new() { ["route"] = "/b" } }, null);
        batch.Add(Point("api", Hour + 4, 7) with { Tags = new() { ["user"] = "u3" } }, null);
        batch.Add(Point("api", Hour + 5, 9), null);
        batch.Add(Point("api", Hour + 60_000, 1) with { Tags = new() { ["route"] = "/a", ["status"] = "200" } }, null);

        Assert.Equal(6, Assert.Single(batch.Hours()).Count);
        var minutes = batch.TaggedMinutes.OrderBy(m => m.BucketMs).ThenBy(m => m.Dims, StringComparer.Ordinal).ToList();
        Assert.Equal(3, minutes.Count);
        var a = minutes[0];
        Assert.Equal(("""{"route":"/a","status":"200"}""", 2L, 40.0, 10.0, 30.0), (a.Dims, a.Count, a.Sum, a.Min, a.Max));
        Assert.Equal(("""{"route":"/b"}""", 1L), (minutes[1].Dims, minutes[1].Count));
        Assert.Equal(Hour + 60_000, minutes[2].BucketMs);

        var hours = batch.TaggedHours().OrderBy(h => h.Dims, StringComparer.Ordinal).ToList();
        Assert.Equal(2, hours.Count);
        Assert.Equal((Hour, 3L, 41.0, 3L), (hours[0].BucketMs, hours[0].Count, hours[0].Sum, hours[0].Sketch.Count));
        Assert.Equal(1L, hours[1].Count);
    }

    [Fact]
    public void TaggedRows_EscapeValues_AsJson()
    {
        var batch = new RollupBatch(["route"]);
        batch.Add(Point("api", Hour, 1) with { Tags = new() { ["route"] = "/a\"b" } }, null);
        Assert.Equal("""{"route":"/a\u0022b"}""", Assert.Single(batch.TaggedMinutes).Dims);
    }

    [Fact]
    public void WithoutTagKeys_NoTaggedRows()
    {
        var batch = new RollupBatch();
        batch.Add(Point("api", Hour, 1) with { Tags = new() { ["route"] = "/a" } }, null);
        Assert.Empty(batch.TaggedMinutes);
        Assert.Empty(batch.TaggedHours());
    }
}
