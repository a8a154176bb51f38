using ContentMax.Contracts;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Tests;

// Aggregation per name and tag set, checked on what the server parses.
public class AggregationTests
{
    [Fact]
    public void RequestCounts_BecomeOnePoint_CountAndSumN()
    {
        using var a = new Aggregators();
        for (var i = 0; i < 1000; i++) a.Publisher.Track("api_requests", 1, ("route", "/items/{id}"), ("status", "200"));

        var point = Assert.Single(a.FlushThroughServer());
        Assert.Equal("api_requests", point.Metric);
        Assert.Equal(1000, point.Distribution!.Count);
        Assert.Equal(1000, point.Value);
        Assert.Equal((1, 1), (point.Distribution.Min, point.Distribution.Max));
        // One occupied bucket, (1/gamma, 1], between the empty ends.
        Assert.Equal([0, 1000, 0], point.Distribution.BucketCounts);
        Assert.Equal(1, point.Distribution.Bounds[1]);
        Assert.Equal(new Dictionary<string, string> { ["route"] = "/items/{id}", ["status"] = "200", ["service"] = ClientHost.ServiceName }, point.Tags);
    }

    [Fact]
    public void ResponseTimes_KeepExactCountSumMinMax_AndEveryObservationIsInTheBucketThatCountsIt()
    {
        using var a = new Aggregators();
        var random = new Random(3);
        // Log-normal around 50 ms, as response times are.
        var values = Enumerable.Range(0, 10_000).Select(_ => Math.Exp(Math.Log(50) + 0.8 * Gaussian(random))).ToArray();
        foreach (var v in values) a.Publisher.Track("api_response_time", v);

        var point = Assert.Single(a.FlushThroughServer());
        var d = point.Distribution!;
        Assert.Equal(values.Length, d.Count);
        Assert.Equal(values.Sum(), point.Value, 6);
        Assert.Equal(values.Min(), d.Min);
        Assert.Equal(values.Max(), d.Max);
        for (var i = 0; i < d.BucketCounts.Length; i++)
        {
            var lower = i == 0 ? double.NegativeInfinity : d.Bounds[i - 1];
            var upper = i == d.Bounds.Length ? double.PositiveInfinity : d.Bounds[i];
            Assert.Equal(d.BucketCounts[i], values.Count(v => v > lower && v <= upper));
        }

        // Only occupied buckets and one per gap: far fewer bounds than observations.
        Assert.InRange(d.Bounds.Length, 50, 600);
        Assert.Equal(0, d.BucketCounts[0]);
        Assert.Equal(0, d.BucketCounts[^1]);
    }

    [Fact]
    public void TagsInAnyOrder_AreOneSeries_AndEachTagSetIsItsOwn()
    {
        using var a = new Aggregators(o => o.Tags["env"] = "test");
        a.Publisher.Track("db_query_time", 5, ("table", "projects"), ("op", "select"));
        a.Publisher.Track("db_query_time", 7, new Dictionary<string, string> { ["op"] = "select", ["table"] = "projects" });
        a.Publisher.Track("db_query_time", 9, ("table", "users"), ("op", "select"), ("env", "own-wins"));

        var points = a.FlushThroughServer().OrderBy(p => p.Tags!["table"]).ToArray();
        Assert.Equal(2, points.Length);
        Assert.Equal(2, points[0].Count);
        Assert.Equal(12, points[0].Value);
        Assert.Equal("test", points[0].Tags!["env"]);
        Assert.Equal(ClientHost.ServiceName, points[0].Tags!["service"]);
        Assert.Equal("own-wins", points[1].Tags!["env"]);
    }

    [Fact]
    public void OneObservation_IsAPlainPoint_AndAGaugeSendsItsLastValue()
    {
        using var a = new Aggregators();
        a.Publisher.Track("export_time", 1250);
        a.Publisher.ActiveProjects(10);
        a.Publisher.ActiveProjects(12);

        var points = a.FlushThroughServer().ToDictionary(p => p.Metric);
        Assert.Null(points["export_time"].Distribution);
        Assert.Equal(1250, points["export_time"].Value);
        Assert.Null(points["active_projects"].Distribution);
        Assert.Equal(12, points["active_projects"].Value);
    }

    [Fact]
    public void Kpis_RecordWhatTheDashboardReads()
    {
        using var a = new Aggregators();
        a.Publisher.OpportunitiesScored(25, averageScore: 71.5, model: "v2");
        a.Publisher.OpportunitiesScored(0);
        a.Publisher.RevenueCalculated(1200.75m, "EUR");
        a.Publisher.RevenueCalculated(800, "EUR");

        var points = a.FlushThroughServer().ToDictionary(p => p.Metric);
        Assert.Equal(25, points["opportunities_scored"].Count);
        Assert.Equal(25 * 71.5, points["opportunities_scored"].Value);
        Assert.Equal("v2", points["opportunities_scored"].Tags!["model"]);
        Assert.Equal(2, points["revenue_calculated"].Count);
        Assert.Equal(2000.75, points["revenue_calculated"].Value, 9);
        Assert.Equal("EUR", points["revenue_calculated"].Tags!["currency"]);
    }

    [Fact]
    public void InvalidNamesTagsAndValues_AreDroppedAndCounted_NeverThrown_AndLoggedOncePerName()
    {
        using var a = new Aggregators();
        for (var i = 0; i < 3; i++) a.Publisher.Track("1starts-with-a-digit", 1);
        a.Publisher.Track("has space", 1);
        a.Publisher.Track("fine", double.NaN);
        a.Publisher.Track("fine", 1, ("k", new string('v', 201)));
        a.Publisher.Track(null!, 1);
        a.Publisher.Track("fine", 2);

        var point = Assert.Single(a.FlushThroughServer());
        Assert.Equal(("fine", 2.0), (point.Metric, point.Value));
        Assert.Equal(7, a.Metrics.Dropped);
        var warnings = a.Logs.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToArray();
        Assert.Single(warnings, w => w.Contains("'1starts-with-a-digit'"));
        Assert.Contains(warnings, w => w.Contains("'has space'") && w.Contains("may contain only letters"));
        Assert.Contains(warnings, w => w.Contains("'fine'") && w.Contains("finite"));
    }

    [Fact]
    public void AnIdleSeries_Retires_AndGivesItsBufferSpaceBack()
    {
        using var a = new Aggregators();
        a.Publisher.Track("a", 1);
        a.Publisher.Track("b", 1);
        Assert.Equal(2, a.Buffer.Used);

        Assert.Equal(2, a.FlushThroughServer().Length);
        a.Publisher.Track("a", 1);
        Assert.Single(a.FlushThroughServer());
        Assert.Equal(1, a.Aggregator.SeriesCount);

        Assert.Empty(a.FlushThroughServer());
        Assert.Equal(0, a.Aggregator.SeriesCount);
        Assert.Equal(0, a.Buffer.Used);

        // A new observation after retirement starts a new series.
        a.Publisher.Track("a", 3);
        Assert.Equal(3, Assert.Single(a.FlushThroughServer()).Value);
    }

    [Fact]
    public void AFullBuffer_DropsNewSeriesAndCountsThem()
    {
        using var a = new Aggregators(o => o.MaxBufferedPoints = 10);
        for (var i = 0; i < 15; i++) a.Publisher.Track("m" + i, 1);
        for (var i = 0; i < 15; i++) a.Publisher.Track("m" + i, 1);

        Assert.Equal(10, a.Aggregator.SeriesCount);
        Assert.Equal(10, a.Buffer.Used);
        Assert.Equal(10, a.Metrics.Dropped);
        Assert.Equal(10, a.FlushThroughServer().Length);
        Assert.Single(a.Logs.Lines, l => l.Message.Contains("the buffer is full"));
    }

    [Fact]
    public void EveryPoint_GetsItsOwnVersion7Id()
    {
        using var a = new Aggregators();
        for (var i = 0; i < 50; i++) a.Publisher.Track("m" + i, i);

        var ids = a.FlushThroughServer().Select(p => p.Id).ToArray();
        Assert.Equal(50, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(7, id.Version));
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
