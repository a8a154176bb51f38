using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;

namespace ContentMax.UnitTests;

public class IndexOrderedPointsTests
{
    private static MetricPoint Point(string metric, long ts) => new() { Id = Guid.NewGuid(), Metric = metric, Value = ts, Timestamp = ts };

    [Fact]
    public void Points_ComeInTheOrderOfTheNameAndTimeIndex_AllOfThem()
    {
        var random = new Random(4);
        var arrivals = Enumerable.Range(0, 5000).Select(_ => Point($"web.metric_{random.Next(20)}", 1_795_694_000_000 + random.Next(60_000))).ToList();

        // Fewer expected than come: the pooled array grows.
        using var rows = new IndexOrderedPoints(arrivals, expectedCount: 100);

        var expected = arrivals.OrderBy(p => p.Metric, StringComparer.Ordinal).ThenBy(p => p.Timestamp).ToList();
        Assert.Equal(expected.Select(p => (p.Metric, p.Timestamp)), rows.Points.Select(p => (p.Metric, p.Timestamp)));
        Assert.Equal(arrivals.Select(p => p.Id).Order(), rows.Points.Select(p => p.Id).Order());
    }

    [Fact]
    public void NoPoints_GiveAnEmptyWrite()
    {
        using var rows = new IndexOrderedPoints([], expectedCount: 0);

        Assert.Equal(0, rows.Points.Count);
    }

    // Ordinal, as the C.UTF-8 collation of the local servers orders them. Under
    // another collation the names' order differs, and each name's points still
    // come together, which is what keeps the index's leaf pages hot.
    [Fact]
    public void Names_SortByOrdinal()
    {
        using var rows = new IndexOrderedPoints([Point("b", 1), Point("B", 2), Point("a", 3), Point("A", 4)], expectedCount: 4);

        Assert.Equal(["A", "B", "a", "b"], rows.Points.Select(p => p.Metric));
    }
}
