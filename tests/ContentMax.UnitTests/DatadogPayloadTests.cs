using System.Text.Json;
using ContentMax.Aggregation.Forwarding;

namespace ContentMax.UnitTests;

public class DatadogPayloadTests
{
    private static DatadogMapping Mapping(Dictionary<string, string>? types = null, string[]? allowed = null) => new(new DatadogOptions
    {
        Environment = "test",
        Types = types ?? [],
        AllowedTags = allowed ?? DatadogMapping.DefaultAllowedTags,
    });

    private static JsonElement[] Series(DatadogBody body) => JsonDocument.Parse(body.Json).RootElement.GetProperty("series").EnumerateArray().ToArray();

    [Theory]
    [InlineData("api_requests", false, DatadogKind.Count)]
    [InlineData("errors", false, DatadogKind.Count)]
    [InlineData("http_requests_total", false, DatadogKind.Count)]
    [InlineData("opportunities_scored", false, DatadogKind.Count)]
    [InlineData("api_response_time", false, DatadogKind.Distribution)]
    [InlineData("db_query_ms", false, DatadogKind.Distribution)]
    [InlineData("web_vitals_lcp", false, DatadogKind.Distribution)]
    [InlineData("LCP", false, DatadogKind.Distribution)]
    [InlineData("active_projects", false, DatadogKind.Gauge)]
    [InlineData("queue_depth", true, DatadogKind.Distribution)]
    public void KindsByName_AndByPointsThatStandForMany(string metric, bool many, DatadogKind expected) =>
        Assert.Equal(expected, Mapping().KindOf(metric, many));

    [Fact]
    public void ConfiguredKind_WinsOverTheDefaults() =>
        Assert.Equal(DatadogKind.Gauge, Mapping(new() { ["api_requests"] = "gauge" }).KindOf("api_requests", false));

    [Fact]
    public void Counts_AreSummedPerSeriesAndSecond_AsType1WithAnInterval()
    {
        OutboxPoint[] points =
        [
            new("api_requests", 100, 1, ["route:/a"]), new("api_requests", 100, 1, ["route:/a"]), new("api_requests", 100, 1, ["route:/a"]),
            new("api_requests", 101, 1, ["route:/a"]), new("api_requests", 100, 1, ["route:/b"]),
        ];

        var body = Assert.Single(DatadogPayload.Build(points, Mapping()));

        Assert.Equal(DatadogPayload.SeriesPath, body.Path);
        var a = Series(body).Single(s => s.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "route:/a"));
        Assert.Equal(1, a.GetProperty("type").GetInt32());
        Assert.Equal(1, a.GetProperty("interval").GetInt32());
        Assert.Equal([(100L, 3.0), (101L, 1.0)], a.GetProperty("points").EnumerateArray().Select(p => (p.GetProperty("timestamp").GetInt64(), p.GetProperty("value").GetDouble())));
        Assert.Equal(5, body.Points.Count);
    }

    [Fact]
    public void Gauges_KeepTheLastValuePerSecond_AsType3()
    {
        OutboxPoint[] points = [new("active_projects", 100, 5, null), new("active_projects", 100, 7, null), new("active_projects", 102, 6, null)];

        var series = Assert.Single(Series(Assert.Single(DatadogPayload.Build(points, Mapping()))));

        Assert.Equal(3, series.GetProperty("type").GetInt32());
        Assert.Equal([(100L, 7.0), (102L, 6.0)], series.GetProperty("points").EnumerateArray().Select(p => (p.GetProperty("timestamp").GetInt64(), p.GetProperty("value").GetDouble())));
    }

    [Fact]
    public void Distributions_SendEveryValuePerSecond_ToDistributionPoints()
    {
        OutboxPoint[] points =
        [
            new("api_response_time", 100, 12, null), new("api_response_time", 100, 30, null), new("api_response_time", 101, 7, null),
            // A histogram point: 4 observations summing to 100.
            new("api_response_time", 101, 100, null, 4),
        ];

        var body = Assert.Single(DatadogPayload.Build(points, Mapping()));

        Assert.Equal(DatadogPayload.DistributionPath, body.Path);
        var series = Assert.Single(Series(body));
        Assert.False(series.TryGetProperty("type", out _));
        var perSecond = series.GetProperty("points").EnumerateArray()
            .Select(p => (p[0].GetInt64(), p[1].EnumerateArray().Select(v => v.GetDouble()).ToArray())).ToArray();
        Assert.Equal(100L, perSecond[0].Item1);
        Assert.Equal([12.0, 30.0], perSecond[0].Item2);
        Assert.Equal([7.0, 25.0, 25.0, 25.0, 25.0], perSecond[1].Item2);
    }

    [Fact]
    public void Tags_OnlyAllowedKeys_EnvAlwaysOurs_ServiceTheClientsOrContentMax()
    {
        OutboxPoint[] points =
        [
            new("active_projects", 100, 1, ["route:/a", "user_id:42", "env:production"]),
            new("queue_depth", 100, 1, ["service:checkout", "session:abc"]),
        ];

        var series = Series(Assert.Single(DatadogPayload.Build(points, Mapping())));

        Assert.Equal(["route:/a", "env:test", "service:contentmax"], series.Single(s => s.GetProperty("metric").GetString() == "contentmax.active_projects")
            .GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["service:checkout", "env:test"], series.Single(s => s.GetProperty("metric").GetString() == "contentmax.queue_depth")
            .GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["env:test", "service:contentmax"], Mapping(allowed: ["env"]).Tags(["env:production"]));
    }

    [Fact]
    public void Bodies_StayUnder512000Bytes_WithoutLosingOrRepeatingAPoint()
    {
        var random = new Random(3);
        var points = Enumerable.Range(0, 60_000)
            .Select(i => new OutboxPoint($"metric_{i % 37}", 1_795_000_000 + i, random.NextDouble() * 1e6, [$"route:/api/{i % 11}", $"method:m{i % 3}"]))
            .ToArray();

        var bodies = DatadogPayload.Build(points, Mapping());

        Assert.True(bodies.Count > 1);
        Assert.All(bodies, b => Assert.InRange(b.Json.Length, 1, DatadogPayload.MaxBytes));
        var sent = bodies.SelectMany(b => Series(b).SelectMany(s => s.GetProperty("points").EnumerateArray()
            .Select(p => (s.GetProperty("metric").GetString(), string.Join(",", s.GetProperty("tags").EnumerateArray()), p.GetProperty("timestamp").GetInt64())))).ToList();
        Assert.Equal(points.Length, sent.Count);
        Assert.Equal(points.Length, sent.Distinct().Count());
        Assert.Equal(points.Length, bodies.Sum(b => b.Points.Count));
    }

    [Fact]
    public void OneHugeDistributionSeries_IsCut()
    {
        var points = Enumerable.Range(0, 30_000).Select(i => new OutboxPoint("api_response_time", 1_795_000_000 + i / 10, -1.2345678901234567E+300, null)).ToArray();

        var bodies = DatadogPayload.Build(points, Mapping(), maxBytes: 100_000);

        Assert.True(bodies.Count >= 5);
        Assert.All(bodies, b => Assert.InRange(b.Json.Length, 1, 100_000));
        Assert.Equal(points.Length, bodies.Sum(b => Series(b).Sum(s => s.GetProperty("points").EnumerateArray().Sum(p => p[1].GetArrayLength()))));
    }

    [Fact]
    public void NothingToSend_GivesNoBodies() => Assert.Empty(DatadogPayload.Build([], Mapping()));
}
