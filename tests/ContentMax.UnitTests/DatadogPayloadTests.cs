using System.Text.Json;
using ContentMax.Aggregation.Forwarding;

namespace ContentMax.UnitTests;

public class DatadogPayloadTests
{
    private static readonly string[] Common = ["env:test", "service:contentmax"];

    [Fact]
    public void Build_GroupsPointsIntoSeriesByMetricAndTags()
    {
        OutboxPoint[] points =
        [
            new("LCP", 100, 2400, ["page:/home"]),
            new("LCP", 101, 2600, ["page:/home"]),
            new("LCP", 100, 900, ["page:/about"]),
            new("errors", 102, 1, null),
        ];

        var body = Assert.Single(DatadogPayload.Build(points, Common));
        var series = JsonDocument.Parse(body).RootElement.GetProperty("series").EnumerateArray().ToArray();

        Assert.Equal(3, series.Length);
        var home = series.Single(s => s.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "page:/home"));
        Assert.Equal("contentmax.LCP", home.GetProperty("metric").GetString());
        Assert.Equal(3, home.GetProperty("type").GetInt32());
        Assert.Equal([100L, 101L], home.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("timestamp").GetInt64()));
        Assert.Equal(["page:/home", "env:test", "service:contentmax"], home.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var errors = series.Single(s => s.GetProperty("metric").GetString() == "contentmax.errors");
        Assert.Equal(["env:test", "service:contentmax"], errors.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public void Build_SplitsBodiesAt512000Bytes_WithoutLosingOrRepeatingAPoint()
    {
        var random = new Random(3);
        var points = Enumerable.Range(0, 60_000)
            .Select(i => new OutboxPoint($"metric_{i % 37}", 1_795_000_000 + i, random.NextDouble() * 1e6, [$"endpoint:/api/{i % 11}", $"region:r{i % 3}"]))
            .ToArray();

        var bodies = DatadogPayload.Build(points, Common);

        Assert.True(bodies.Count > 1);
        Assert.All(bodies, b => Assert.InRange(b.Length, 1, DatadogPayload.MaxBytes));
        var sent = bodies
            .SelectMany(b => JsonDocument.Parse(b).RootElement.GetProperty("series").EnumerateArray()
                .SelectMany(s => s.GetProperty("points").EnumerateArray().Select(p => (s.GetProperty("metric").GetString(), p.GetProperty("timestamp").GetInt64()))))
            .ToList();
        Assert.Equal(points.Length, sent.Count);
        Assert.Equal(points.Length, sent.Distinct().Count());
    }

    [Fact]
    public void Build_SplitsOneHugeSeries()
    {
        var points = Enumerable.Range(0, 30_000).Select(i => new OutboxPoint("LCP", 1_795_000_000 + i, -1.2345678901234567E+300, null)).ToArray();

        var bodies = DatadogPayload.Build(points, Common, maxBytes: 100_000);

        Assert.True(bodies.Count >= 10);
        Assert.All(bodies, b => Assert.InRange(b.Length, 1, 100_000));
        Assert.Equal(points.Length, bodies.Sum(b => JsonDocument.Parse(b).RootElement.GetProperty("series").EnumerateArray().Sum(s => s.GetProperty("points").GetArrayLength())));
    }

    [Fact]
    public void Build_NothingToSend_GivesNoBodies() => Assert.Empty(DatadogPayload.Build([], Common));
}
