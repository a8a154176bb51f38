using ContentMax.Contracts;

namespace ContentMax.UnitTests;

public class MetricRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static MetricPoint Valid() => new()
    {
        Id = Guid.NewGuid(),
        Metric = "api_response_time",
        Value = 12.5,
        Timestamp = Now.ToUnixTimeMilliseconds(),
    };

    [Theory]
    [InlineData("a")]
    [InlineData("LCP")]
    [InlineData("web.vitals:lcp-p75_x")]
    public void CheckName_AcceptsLetterThenAllowedCharacters(string name) => Assert.Null(MetricRules.CheckName(name));

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("", "is required")]
    [InlineData("1abc", "must start with a letter")]
    [InlineData("_abc", "must start with a letter")]
    [InlineData("ab c", "may contain only")]
    [InlineData("ab/c", "may contain only")]
    [InlineData("abé", "may contain only")]
    [InlineData("a\u0000b", "may contain only")]
    public void CheckName_RejectsWithReason(string? name, string reason) =>
        Assert.StartsWith(reason, MetricRules.CheckName(name));

    [Fact]
    public void CheckName_LengthLimitIs200()
    {
        Assert.Null(MetricRules.CheckName("a" + new string('b', 199)));
        Assert.Equal("must be at most 200 characters", MetricRules.CheckName("a" + new string('b', 200)));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void CheckValue_RejectsNonFinite(double value) => Assert.Equal("must be a finite number", MetricRules.CheckValue(value));

    [Theory]
    [InlineData(0)]
    [InlineData(-1e300)]
    [InlineData(double.Epsilon)]
    public void CheckValue_AcceptsFinite(double value) => Assert.Null(MetricRules.CheckValue(value));

    [Fact]
    public void CheckTimestamp_AllowsSevenDaysBackAndTenMinutesAhead()
    {
        Assert.Null(MetricRules.CheckTimestamp((Now - TimeSpan.FromDays(7)).ToUnixTimeMilliseconds(), Now));
        Assert.Null(MetricRules.CheckTimestamp((Now + TimeSpan.FromMinutes(10)).ToUnixTimeMilliseconds(), Now));
        Assert.Equal("must be at most 7 days old", MetricRules.CheckTimestamp((Now - TimeSpan.FromDays(7)).ToUnixTimeMilliseconds() - 1, Now));
        Assert.Equal("must be at most 10 minutes in the future", MetricRules.CheckTimestamp((Now + TimeSpan.FromMinutes(10)).ToUnixTimeMilliseconds() + 1, Now));
    }

    [Fact]
    public void CheckText_LimitsLengthAndControlCharacters()
    {
        Assert.Null(MetricRules.CheckText(null, 10));
        Assert.Null(MetricRules.CheckText(new string('x', 2048), MetricRules.MaxUrlLength));
        Assert.Equal("must be at most 2048 characters", MetricRules.CheckText(new string('x', 2049), MetricRules.MaxUrlLength));
        Assert.Equal("must not contain control characters", MetricRules.CheckText("a\nb", MetricRules.MaxUrlLength));
    }

    [Fact]
    public void CheckTags_EnforcesCountKeyAndValueLimits()
    {
        Assert.Empty(MetricRules.CheckTags(Enumerable.Range(0, 32).ToDictionary(i => $"k{i}", i => "v")));
        Assert.Contains(MetricRules.CheckTags(Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v")),
            e => e.Reason == "must have at most 32 entries");
        Assert.Contains(MetricRules.CheckTags(new Dictionary<string, string> { [new string('k', 101)] = "v" }),
            e => e.Reason == "keys must be 1-100 characters");
        Assert.Contains(MetricRules.CheckTags(new Dictionary<string, string> { [""] = "v" }),
            e => e.Reason == "keys must be 1-100 characters");
        Assert.Contains(MetricRules.CheckTags(new Dictionary<string, string> { ["k"] = new string('v', 201) }),
            e => e == ("tags.k", "must be at most 200 characters"));
        Assert.Empty(MetricRules.CheckTags(new Dictionary<string, string> { [new string('k', 100)] = new string('v', 200) }));
    }

    [Fact]
    public void CheckBatch_ReportsEveryInvalidItemByIndex()
    {
        var points = new[]
        {
            Valid(),
            Valid() with { Metric = "9lives", Value = double.NaN },
            Valid(),
            Valid() with { Id = Guid.Empty },
        };

        var errors = MetricRules.Check(points, Now);

        Assert.Equal(
            ["[1].metric: must start with a letter", "[1].value: must be a finite number", "[3].id: must not be the empty UUID"],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void CheckBatch_RejectsEmptyOversizedAndRepeatedIds()
    {
        Assert.Equal("metrics: must contain at least one metric", Assert.Single(MetricRules.Check([], Now)).ToString());
        Assert.Equal("metrics: must contain at most 1000 metrics, not 1001",
            Assert.Single(MetricRules.Check(Enumerable.Range(0, 1001).Select(_ => Valid()).ToArray(), Now)).ToString());

        var twin = Valid();
        Assert.Equal("[1].id: is repeated within the batch", Assert.Single(MetricRules.Check([twin, twin with { Value = 2 }], Now)).ToString());
    }

    [Fact]
    public void IsValid_AgreesWithCheck_OnValidAndBrokenPoints()
    {
        var now = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var ms = now.ToUnixTimeMilliseconds();
        var good = new MetricPoint { Id = Guid.NewGuid(), Metric = "api_response_time", Value = 12.5, Timestamp = ms, Tags = new() { ["route"] = "/x" } };
        MetricPoint[] points =
        [
            good,
            good with { Id = Guid.Empty },
            good with { Metric = "1abc" },
            good with { Value = double.NaN },
            good with { Timestamp = ms - (long)TimeSpan.FromDays(8).TotalMilliseconds },
            good with { Timestamp = ms + (long)TimeSpan.FromMinutes(11).TotalMilliseconds },
            good with { Url = new string('u', MetricRules.MaxUrlLength + 1) },
            good with { UserAgent = "bad\u0001agent" },
            good with { Tags = Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v") },
            good with { Tags = new() { [""] = "v" } },
            good with { Tags = new() { ["k"] = new string('v', 201) } },
            good with { Tags = new() { ["k\u0002"] = "v" } },
            good with { Distribution = new Distribution { Count = 3, Bounds = [1, 2], BucketCounts = [1, 1, 1] } },
            good with { Distribution = new Distribution { Count = 3, Bounds = [2, 1], BucketCounts = [1, 1, 1] } },
            good with { Cumulative = new CumulativeSeries { Series = Guid.NewGuid(), StartTime = ms - 1000 } },
            good with { Cumulative = new CumulativeSeries { Series = Guid.NewGuid(), StartTime = ms + 1000 } },
            good with { Cumulative = new CumulativeSeries { Series = Guid.Empty } },
        ];

        foreach (var point in points)
        {
            Assert.Equal(!MetricRules.Check(point, now).Any(), MetricRules.IsValid(point, now));
        }

        Assert.Empty(MetricRules.Check([good, good with { Id = Guid.NewGuid() }], now));
        Assert.Single(MetricRules.Check([good, good], now), e => e.Field == "id");
    }
}
