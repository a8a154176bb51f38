using System.Text;
using ContentMax.Ingestion;

namespace ContentMax.UnitTests;

public class MetricRequestParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static MetricParseResult Parse(string json) => MetricRequestParser.Parse(Encoding.UTF8.GetBytes(json), Now);

    private static string[] Errors(string json) => Parse(json).Errors.Select(e => e.ToString()).ToArray();

    [Fact]
    public void Parse_SingleObject_FillsDefaults()
    {
        var result = Parse("""{"metric":"LCP","value":2400}""");

        var point = Assert.Single(result.Points);
        Assert.True(result.IsValid);
        Assert.False(result.IsArray);
        Assert.Equal("LCP", point.Metric);
        Assert.Equal(2400, point.Value);
        Assert.Equal(Now.ToUnixTimeMilliseconds(), point.Timestamp);
        Assert.NotEqual(Guid.Empty, point.Id);
    }

    [Theory]
    [InlineData("""{"metric":"m","value":1}""", false)]
    [InlineData("""{"metric":"m","value":1,"timestamp":1795694400000}""", false)]
    [InlineData("""{"metric":"m","value":1,"id":"0b8c7a52-8c7e-4f6e-9b43-3f2a8a2f9d10","timestamp":1795694400000}""", true)]
    [InlineData("""{"metric":"m","value":1,"id":"0b8c7a52-8c7e-4f6e-9b43-3f2a8a2f9d10"}""", true)]
    public void Parse_ClientChosenId_IsStoredAtMostOnce(string json, bool unique) =>
        Assert.Equal(unique, Parse(json).Points.Single().RequireUniqueId);

    [Fact]
    public void Parse_HistogramPoint_BecomesADistributionWhoseValueIsTheSum()
    {
        var point = Assert.Single(Parse("""
            {"metric":"api_response_time","count":6,"sum":930.5,"min":12,"max":480,
             "buckets":{"bounds":[100,250],"counts":[2,3,1]},"tags":{"route":"/api/nodes"}}
            """).Points);

        Assert.Equal(930.5, point.Value);
        Assert.Equal(6, point.Count);
        var d = point.Distribution!;
        Assert.Equal((12.0, 480.0), (d.Min!.Value, d.Max!.Value));
        Assert.Equal([100.0, 250.0], d.Bounds);
        Assert.Equal([2L, 3L, 1L], d.BucketCounts);
    }

    [Fact]
    public void Parse_CountAndSumWithoutBuckets_IsADistributionWithoutBuckets()
    {
        var point = Assert.Single(Parse("""{"metric":"api_requests","count":37,"sum":37}""").Points);
        Assert.Equal(37, point.Count);
        Assert.Empty(point.Distribution!.Bounds);
    }

    [Theory]
    [InlineData("""{"metric":"a","count":3}""", "sum: is required when count or buckets are sent")]
    [InlineData("""{"metric":"a","sum":3}""", "count: is required when sum or buckets are sent")]
    [InlineData("""{"metric":"a","count":2,"sum":3,"value":1}""", "value: must be left out when count and sum are sent (sum is the total of the observations)")]
    [InlineData("""{"metric":"a","value":1,"min":0}""", "min: only applies to a point with count and sum")]
    [InlineData("""{"metric":"a","count":0,"sum":0}""", "count: must be a whole number from 1 to 1000000000000000")]
    [InlineData("""{"metric":"a","count":2.5,"sum":3}""", "count: must be a whole number")]
    [InlineData("""{"metric":"a","count":2,"sum":3,"min":5,"max":1}""", "min: must not be greater than max")]
    [InlineData("""{"metric":"a","count":3,"sum":3,"buckets":{"bounds":[2,1],"counts":[1,1,1]}}""", "buckets.bounds: must be finite numbers in strictly increasing order")]
    [InlineData("""{"metric":"a","count":3,"sum":3,"buckets":{"bounds":[1,2],"counts":[1,2]}}""", "buckets.counts: must have one more entry than bounds")]
    [InlineData("""{"metric":"a","count":3,"sum":3,"buckets":{"bounds":[1,2],"counts":[1,1,0]}}""", "buckets.counts: must add up to count")]
    [InlineData("""{"metric":"a","count":3,"sum":3,"buckets":{"bounds":[1,2],"counts":[1,-1,3]}}""", "buckets.counts: must be an array of whole numbers of at least 0")]
    [InlineData("""{"metric":"a","count":3,"sum":3,"buckets":{"bounds":[1]}}""", "buckets: must have both bounds and counts")]
    [InlineData("""{"metric":"a","count":3,"sum":3,"buckets":[1]}""", "buckets: must be an object with bounds and counts arrays")]
    public void Parse_InvalidHistogramPoint_NamesFieldAndReason(string json, string expected) =>
        Assert.Contains(expected, Errors(json));

    [Fact]
    public void Parse_AllFields_AreKeptAndTagValuesBecomeText()
    {
        var id = Guid.NewGuid();
        var ts = Now.ToUnixTimeMilliseconds() - 1000;
        var result = Parse($$"""
            [{"metric":"api_requests","value":1,"timestamp":{{ts}},"url":"https://app.test/x","userAgent":"UA",
              "tags":{"endpoint":"/api/nodes","status":503,"cached":false},"id":"{{id}}"}]
            """);

        var point = Assert.Single(result.Points);
        Assert.True(result.IsArray);
        Assert.Equal(id, point.Id);
        Assert.Equal(ts, point.Timestamp);
        Assert.Equal("https://app.test/x", point.Url);
        Assert.Equal("UA", point.UserAgent);
        Assert.Equal(new Dictionary<string, string> { ["endpoint"] = "/api/nodes", ["status"] = "503", ["cached"] = "false" }, point.Tags);
    }

    [Theory]
    [InlineData("""{"metric":"a","value":"1"}""", "value: must be a finite number")]
    [InlineData("""{"metric":"a","value":null}""", "value: must be a finite number")]
    [InlineData("""{"metric":"a","value":1e309}""", "value: must be a finite number")]
    [InlineData("""{"metric":"a"}""", "value: is required")]
    [InlineData("""{"value":1}""", "metric: is required")]
    [InlineData("""{"metric":7,"value":1}""", "metric: must be a string")]
    [InlineData("""{"metric":"a","value":1,"timestamp":1.5}""", "timestamp: must be an integer number of Unix milliseconds")]
    [InlineData("""{"metric":"a","value":1,"timestamp":0}""", "timestamp: must be at most 7 days old")]
    [InlineData("""{"metric":"a","value":1,"id":"nope"}""", "id: must be a UUID string")]
    [InlineData("""{"metric":"a","value":1,"tags":[1]}""", "tags: must be an object of string, number or boolean values")]
    [InlineData("""{"metric":"a","value":1,"tags":{"k":{"x":1}}}""", "tags.k: must be a string, number or boolean")]
    [InlineData("""{"metric":"a","value":1,"url":5}""", "url: must be a string")]
    [InlineData("""{"metric":"a","value":1,"vaule":1}""", "vaule: is not a known field (expected metric, value, timestamp, url, userAgent, tags, id, count, sum, min, max, buckets)")]
    [InlineData("""{"metric":"a","value":1,"value":2}""", "value: appears more than once")]
    public void Parse_InvalidField_NamesFieldAndReason(string json, string expected) =>
        Assert.Contains(expected, Errors(json));

    [Theory]
    [InlineData("", "body: is not valid JSON")]
    [InlineData("{", "body: is not valid JSON")]
    [InlineData("[]", "body: must contain at least one metric")]
    [InlineData("42", "body: must be a metric object or an array of metric objects")]
    [InlineData("NaN", "body: is not valid JSON")]
    [InlineData("[[[[[[[[[[1]]]]]]]]]]", "body: is not valid JSON")]
    public void Parse_InvalidBody_IsRejectedWhole(string json, string expectedPrefix) =>
        Assert.StartsWith(expectedPrefix, Assert.Single(Errors(json)));

    [Fact]
    public void Parse_InvalidUtf8_IsRejected()
    {
        var result = MetricRequestParser.Parse(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' }, Now);
        Assert.StartsWith("body: is not valid JSON", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Parse_BatchWithOneBadItem_RejectsAllAndNamesTheIndex()
    {
        var items = Enumerable.Range(0, 10).Select(i => i == 7 ? """{"metric":"x","value":"bad"}""" : $$"""{"metric":"x","value":{{i}}}""");
        var result = Parse("[" + string.Join(",", items) + "]");

        Assert.False(result.IsValid);
        Assert.Empty(result.Points);
        Assert.Equal("[7].value: must be a finite number", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Parse_MoreThan1000_IsRejected()
    {
        var json = "[" + string.Join(",", Enumerable.Repeat("""{"metric":"x","value":1}""", 1001)) + "]";
        Assert.Equal("body: must contain at most 1000 metrics, not 1001", Assert.Single(Errors(json)));
    }

    [Fact]
    public void Parse_RepeatedIdInBatch_IsRejected()
    {
        var id = Guid.NewGuid();
        var json = $$"""[{"metric":"x","value":1,"id":"{{id}}"},{"metric":"x","value":2,"id":"{{id}}"}]""";
        Assert.Equal("[1].id: is repeated within the batch", Assert.Single(Errors(json)));
    }

    [Fact]
    public void Parse_HugeFieldName_IsClippedInTheError()
    {
        var name = new string('k', 10_000);
        var error = Assert.Single(Parse($$"""{"metric":"x","value":1,"{{name}}":1}""").Errors);
        Assert.True(error.Field.Length < 100);
    }
}
