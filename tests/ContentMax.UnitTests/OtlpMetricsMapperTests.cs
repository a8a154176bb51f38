using System.Globalization;
using ContentMax.Contracts;
using ContentMax.Ingestion.OpenTelemetry;
using ContentMax.Ingestion.OpenTelemetry.Proto.Collector.Metrics.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Common.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Metrics.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Resource.V1;
using ContentMax.Ingestion.Protocols;
using Google.Protobuf;

namespace ContentMax.UnitTests;

public class OtlpMetricsMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly ulong NowNanos = (ulong)Now.ToUnixTimeMilliseconds() * 1_000_000 + 123_456;
    private static readonly ulong StartNanos = NowNanos - 60_000_000_000UL;

    internal static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    internal static KeyValue Attr(string key, AnyValue value) => new() { Key = key, Value = value };

    internal static ExportMetricsServiceRequest Request(IEnumerable<Metric> metrics, IEnumerable<KeyValue>? resource = null, string scope = "test-scope")
    {
        var resourceMetrics = new ResourceMetrics { Resource = new Resource() };
        resourceMetrics.Resource.Attributes.Add(resource ?? [Attr("service.name", "checkout")]);
        var scopeMetrics = new ScopeMetrics { Scope = new InstrumentationScope { Name = scope } };
        scopeMetrics.Metrics.Add(metrics);
        resourceMetrics.ScopeMetrics.Add(scopeMetrics);
        var request = new ExportMetricsServiceRequest();
        request.ResourceMetrics.Add(resourceMetrics);
        return request;
    }

    internal static NumberDataPoint Number(double value, ulong? time = null, ulong start = 0, params KeyValue[] attributes)
    {
        var point = new NumberDataPoint { AsDouble = value, TimeUnixNano = time ?? NowNanos, StartTimeUnixNano = start };
        point.Attributes.Add(attributes);
        return point;
    }

    internal static Metric Gauge(string name, params NumberDataPoint[] points)
    {
        var metric = new Metric { Name = name, Gauge = new Gauge() };
        metric.Gauge.DataPoints.Add(points);
        return metric;
    }

    internal static Metric Sum(string name, bool monotonic, AggregationTemporality temporality, params NumberDataPoint[] points)
    {
        var metric = new Metric { Name = name, Sum = new Sum { IsMonotonic = monotonic, AggregationTemporality = temporality } };
        metric.Sum.DataPoints.Add(points);
        return metric;
    }

    internal static Metric Histogram(string name, AggregationTemporality temporality, params HistogramDataPoint[] points)
    {
        var metric = new Metric { Name = name, Histogram = new Histogram { AggregationTemporality = temporality } };
        metric.Histogram.DataPoints.Add(points);
        return metric;
    }

    internal static HistogramDataPoint HistogramPoint(double[] bounds, ulong[] counts, double? sum, double? min = null, double? max = null, params KeyValue[] attributes)
    {
        var point = new HistogramDataPoint { TimeUnixNano = NowNanos, StartTimeUnixNano = StartNanos, Count = (ulong)counts.Sum(c => (long)c) };
        point.ExplicitBounds.Add(bounds);
        point.BucketCounts.Add(counts);
        if (sum is { } s) point.Sum = s;
        if (min is { } mn) point.Min = mn;
        if (max is { } mx) point.Max = mx;
        point.Attributes.Add(attributes);
        return point;
    }

    private static (List<MetricPoint> Points, MappingReport Report) Map(ExportMetricsServiceRequest request)
    {
        var report = new MappingReport();
        return (OtlpMetricsMapper.Map(request, Now, report), report);
    }

    private static (List<MetricPoint> Points, MappingReport Report) Map(params Metric[] metrics) => Map(Request(metrics));

    [Fact]
    public void Gauge_AsDoubleAndAsInt_ArePlainPointsInMilliseconds()
    {
        var asInt = new NumberDataPoint { AsInt = 42, TimeUnixNano = NowNanos };

        var (points, report) = Map(Gauge("queue.depth", Number(2.5), asInt));

        Assert.Equal([2.5, 42.0], points.Select(p => p.Value));
        Assert.All(points, p =>
        {
            Assert.Equal("queue.depth", p.Metric);
            Assert.Equal(Now.ToUnixTimeMilliseconds(), p.Timestamp);
            Assert.Null(p.Cumulative);
            Assert.Null(p.Distribution);
            Assert.NotEqual(Guid.Empty, p.Id);
            Assert.False(p.RequireUniqueId);
        });
        Assert.Equal(0, report.RejectedCount);
    }

    [Fact]
    public void Tags_AreServiceAndNamespaceFromResource_ThenPointAttributesByKey()
    {
        var request = Request(
            [Gauge("m", Number(1, attributes: [Attr("zone", "b"), Attr("http.route", "/api/x"), Attr("method", "GET")]))],
            [Attr("service.name", "checkout"), Attr("service.namespace", "shop"), Attr("host.name", "node-1"), Attr("service.version", "1.2")]);

        var point = Assert.Single(Map(request).Points);

        Assert.Equal(["service", "service.namespace", "http.route", "method", "zone"], point.Tags!.Keys);
        Assert.Equal("checkout", point.Tags["service"]);
        Assert.Equal("shop", point.Tags["service.namespace"]);
        Assert.Equal("/api/x", point.Tags["http.route"]);
    }

    [Fact]
    public void AttributeValues_AreRenderedAsInvariantText()
    {
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var array = new AnyValue { ArrayValue = new ArrayValue() };
            array.ArrayValue.Values.Add([new AnyValue { StringValue = "a\"b" }, new AnyValue { IntValue = 3 }, new AnyValue { BoolValue = true }, new AnyValue { DoubleValue = 0.25 }]);
            var kvlist = new AnyValue { KvlistValue = new KeyValueList() };
            kvlist.KvlistValue.Values.Add([Attr("k", "v"), Attr("n", new AnyValue { IntValue = -1 })]);

            var point = Assert.Single(Map(Gauge("m", Number(1, attributes:
            [
                Attr("bool", new AnyValue { BoolValue = false }),
                Attr("int", new AnyValue { IntValue = 1234567 }),
                Attr("double", new AnyValue { DoubleValue = 1.5 }),
                Attr("bytes", new AnyValue { BytesValue = ByteString.CopyFrom(1, 2, 255) }),
                Attr("array", array),
                Attr("kvlist", kvlist),
                Attr("empty", new AnyValue()),
            ]))).Points);

            Assert.Equal("false", point.Tags!["bool"]);
            Assert.Equal("1234567", point.Tags["int"]);
            Assert.Equal("1.5", point.Tags["double"]);
            Assert.Equal("AQL/", point.Tags["bytes"]);
            Assert.Equal("""["a\u0022b",3,true,0.25]""", point.Tags["array"]);
            Assert.Equal("""{"k":"v","n":-1}""", point.Tags["kvlist"]);
            Assert.Equal("", point.Tags["empty"]);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void MonotonicCumulativeSum_IsCumulativeWithStartTime()
    {
        var point = Assert.Single(Map(Sum("requests", true, AggregationTemporality.Cumulative, Number(17, start: StartNanos))).Points);

        Assert.Equal(17, point.Value);
        Assert.NotNull(point.Cumulative);
        Assert.Equal((long)(StartNanos / 1_000_000), point.Cumulative.StartTime);
        Assert.NotEqual(Guid.Empty, point.Cumulative.Series);
    }

    [Fact]
    public void CumulativeSumWithoutStartTime_HasStartTimeZero()
    {
        var point = Assert.Single(Map(Sum("requests", true, AggregationTemporality.Cumulative, Number(17))).Points);

        Assert.Equal(0, point.Cumulative!.StartTime);
    }

    [Theory]
    [InlineData(true, AggregationTemporality.Delta)]
    [InlineData(false, AggregationTemporality.Cumulative)]
    [InlineData(false, AggregationTemporality.Delta)]
    [InlineData(false, AggregationTemporality.Unspecified)]
    public void DeltaSumsAndUpDownCounters_ArePlainPointsHoldingTheValueSent(bool monotonic, AggregationTemporality temporality)
    {
        var point = Assert.Single(Map(Sum("in_flight", monotonic, temporality, Number(-3, start: StartNanos))).Points);

        Assert.Equal(-3, point.Value);
        Assert.Null(point.Cumulative);
    }

    [Fact]
    public void MonotonicSumWithoutTemporality_IsRejected()
    {
        var (points, report) = Map(Sum("requests", true, AggregationTemporality.Unspecified, Number(1), Number(2)));

        Assert.Empty(points);
        Assert.Equal(2, report.Rejected["unspecified_temporality"]);
    }

    [Fact]
    public void SeriesIdentity_IsStableAndCoversNameResourceScopeAndAttributes()
    {
        Guid SeriesOf(string name = "requests", string host = "node-1", string scope = "s", params KeyValue[] attributes)
        {
            var request = Request([Sum(name, true, AggregationTemporality.Cumulative, Number(1, start: StartNanos, attributes: attributes))],
                [Attr("service.name", "api"), Attr("host.name", host)], scope);
            return Map(request).Points.Single().Cumulative!.Series;
        }

        var baseline = SeriesOf(attributes: [Attr("a", "1"), Attr("b", "2")]);

        Assert.Equal(baseline, SeriesOf(attributes: [Attr("b", "2"), Attr("a", "1")]));
        Assert.NotEqual(baseline, SeriesOf(name: "requests2", attributes: [Attr("a", "1"), Attr("b", "2")]));
        Assert.NotEqual(baseline, SeriesOf(host: "node-2", attributes: [Attr("a", "1"), Attr("b", "2")]));
        Assert.NotEqual(baseline, SeriesOf(scope: "other", attributes: [Attr("a", "1"), Attr("b", "2")]));
        Assert.NotEqual(baseline, SeriesOf(attributes: [Attr("a", "1"), Attr("b", "3")]));
        Assert.NotEqual(baseline, SeriesOf(attributes: [Attr("a", "1"), Attr("b", new AnyValue { IntValue = 2 })]));
        Assert.NotEqual(baseline, SeriesOf(attributes: [Attr("a", "1")]));
        Assert.Equal(8, (baseline.ToByteArray(bigEndian: true)[6] >> 4)); // an RFC 9562 version 8 UUID
    }

    [Fact]
    public void SeriesIdentity_CountsAttributesThatWereDroppedAsTags()
    {
        var longValue = new string('x', MetricRules.MaxTagValueLength + 1);
        var points = Map(Sum("requests", true, AggregationTemporality.Cumulative,
            Number(1, start: StartNanos, attributes: [Attr("query", longValue + "a")]),
            Number(1, start: StartNanos, attributes: [Attr("query", longValue + "b")]))).Points;

        Assert.Equal(points[0].Tags, points[1].Tags);
        Assert.NotEqual(points[0].Cumulative!.Series, points[1].Cumulative!.Series);
    }

    [Fact]
    public void TagsBeyondTheLimits_AreDroppedAndCounted_ThePointIsKept()
    {
        var attributes = Enumerable.Range(0, 40).Select(i => Attr($"k{i:D2}", "v")).ToList();
        attributes.Add(Attr(new string('k', MetricRules.MaxTagKeyLength + 1), "v"));
        attributes.Add(Attr("long", new string('v', MetricRules.MaxTagValueLength + 1)));
        attributes.Add(Attr("control", "line\nbreak"));
        attributes.Add(Attr("", "empty key"));

        var (points, report) = Map(Gauge("m", Number(1, attributes: [.. attributes])));

        var point = Assert.Single(points);
        Assert.Equal(MetricRules.MaxTags, point.Tags!.Count);
        Assert.Equal("checkout", point.Tags["service"]);
        Assert.Contains("k30", point.Tags.Keys);
        Assert.DoesNotContain("k31", point.Tags.Keys); // service + k00..k30 are the first 32 in key order
        Assert.Empty(MetricRules.Check(point, Now));
        Assert.Equal(9, report.DroppedTags["too_many"]);
        Assert.Equal(2, report.DroppedTags["key_length"]);
        Assert.Equal(1, report.DroppedTags["value_length"]);
        Assert.Equal(1, report.DroppedTags["control_characters"]);
        Assert.Equal(0, report.RejectedCount);
    }

    [Fact]
    public void ExplicitHistogram_IsADistributionWhoseValueIsTheSum()
    {
        var point = Assert.Single(Map(Histogram("latency", AggregationTemporality.Delta,
            HistogramPoint([10, 100], [3, 5, 2], sum: 420.5, min: 1, max: 250))).Points);

        Assert.Equal(420.5, point.Value);
        Assert.Null(point.Cumulative);
        var d = point.Distribution!;
        Assert.Equal(10, d.Count);
        Assert.Equal(1, d.Min);
        Assert.Equal(250, d.Max);
        Assert.Equal([10.0, 100.0], d.Bounds);
        Assert.Equal([3L, 5, 2], d.BucketCounts);
    }

    [Fact]
    public void CumulativeHistogram_IsCumulative()
    {
        var point = Assert.Single(Map(Histogram("latency", AggregationTemporality.Cumulative, HistogramPoint([10], [1, 1], sum: 15))).Points);

        Assert.NotNull(point.Cumulative);
        Assert.Equal((long)(StartNanos / 1_000_000), point.Cumulative.StartTime);
        Assert.Null(point.Distribution!.Min);
    }

    [Fact]
    public void HistogramWithoutBounds_KeepsCountAndSumOnly()
    {
        var noBuckets = HistogramPoint([], [], sum: 10);
        noBuckets.Count = 2;

        var (points, _) = Map(Histogram("latency", AggregationTemporality.Delta, HistogramPoint([], [4], sum: 10), noBuckets));

        Assert.Equal(2, points.Count);
        Assert.All(points, p => Assert.Empty(p.Distribution!.Bounds));
        Assert.All(points, p => Assert.Empty(p.Distribution!.BucketCounts));
        Assert.Equal([4L, 2], points.Select(p => p.Distribution!.Count));
    }

    [Fact]
    public void HistogramProblems_RejectThatDataPointOnly()
    {
        var mismatched = HistogramPoint([10, 100], [1, 2], sum: 5);
        var wrongCount = HistogramPoint([10], [1, 2], sum: 5);
        wrongCount.Count = 7;

        var (points, report) = Map(Histogram("latency", AggregationTemporality.Delta,
            HistogramPoint([10], [1, 1], sum: null), mismatched, wrongCount, HistogramPoint([10], [1, 1], sum: 12)));

        Assert.Equal(12, Assert.Single(points).Value);
        Assert.Equal(1, report.Rejected["missing_sum"]);
        Assert.Equal(1, report.Rejected["bucket_mismatch"]);
        Assert.Equal(1, report.Rejected["count_mismatch"]);
    }

    [Fact]
    public void HistogramWithNonIncreasingBounds_IsRejectedByMetricRules()
    {
        var (points, report) = Map(Histogram("latency", AggregationTemporality.Delta, HistogramPoint([10, 5], [1, 1, 1], sum: 5)));

        Assert.Empty(points);
        Assert.Equal(1, report.Rejected["invalid_histogram"]);
    }

    [Theory]
    [InlineData(AggregationTemporality.Delta)]
    [InlineData(AggregationTemporality.Cumulative)]
    public void HistogramWithNoObservations_IsSkippedSilently(AggregationTemporality temporality)
    {
        var (points, report) = Map(Histogram("latency", temporality, HistogramPoint([10], [0, 0], sum: 0)));

        Assert.Empty(points);
        Assert.Equal(0, report.RejectedCount);
        Assert.Equal(1, report.Skipped["empty"]);
    }

    [Fact]
    public void Summary_IsACumulativeDistributionWithoutBuckets()
    {
        var summaryPoint = new SummaryDataPoint { Count = 12, Sum = 30.5, TimeUnixNano = NowNanos, StartTimeUnixNano = StartNanos };
        var metric = new Metric { Name = "gc.pause", Summary = new Summary() };
        metric.Summary.DataPoints.Add(summaryPoint);

        var point = Assert.Single(Map(metric).Points);

        Assert.Equal(30.5, point.Value);
        Assert.Equal(12, point.Distribution!.Count);
        Assert.Empty(point.Distribution.Bounds);
        Assert.NotNull(point.Cumulative);
    }

    [Fact]
    public void NoRecordedValue_IsSkipped()
    {
        var flagged = Number(5);
        flagged.Flags = (uint)DataPointFlags.NoRecordedValueMask;
        var flaggedHistogram = HistogramPoint([10], [1, 0], sum: 1);
        flaggedHistogram.Flags = 1;

        var (points, report) = Map(Gauge("m", flagged, Number(6)), Histogram("h", AggregationTemporality.Cumulative, flaggedHistogram));

        Assert.Equal(6, Assert.Single(points).Value);
        Assert.Equal(2, report.Skipped["no_recorded_value"]);
        Assert.Equal(0, report.RejectedCount);
    }

    [Fact]
    public void InvalidPoints_AreRejectedWithReasons_TheOthersKept()
    {
        var tooOld = (ulong)(Now - TimeSpan.FromDays(8)).ToUnixTimeMilliseconds() * 1_000_000;
        var inFuture = (ulong)(Now + TimeSpan.FromHours(1)).ToUnixTimeMilliseconds() * 1_000_000;
        var startAfterTime = Number(1, start: NowNanos + 5_000_000_000);

        var (points, report) = Map(
            Gauge("9starts.with.digit", Number(1), Number(2)),
            Gauge("ok", Number(1), Number(double.NaN), Number(1, time: tooOld), Number(1, time: inFuture), Number(1, time: 0), new NumberDataPoint { TimeUnixNano = NowNanos }),
            Sum("counter", true, AggregationTemporality.Cumulative, startAfterTime));

        Assert.Equal(1, Assert.Single(points).Value);
        Assert.Equal(2, report.Rejected["invalid_name"]);
        Assert.Equal(1, report.Rejected["non_finite_value"]);
        Assert.Equal(2, report.Rejected["timestamp_out_of_range"]);
        Assert.Equal(1, report.Rejected["missing_timestamp"]);
        Assert.Equal(1, report.Rejected["missing_value"]);
        Assert.Equal(1, report.Rejected["invalid_start_time"]);
        Assert.Equal(8, report.RejectedCount);
        Assert.Contains("9starts.with.digit", report.Describe("data points", "attributes"));
    }

    [Fact]
    public void Describe_CountsRejectionsByReasonAndWarnsOfDroppedAttributes()
    {
        var report = new MappingReport();
        report.Reject("missing_sum", "metric 'a': no sum");
        report.Reject("missing_sum", "metric 'b': no sum");
        report.Reject("invalid_name", "metric '1': bad", 3);
        report.DropTags(["too_many", "too_many"]);

        var text = report.Describe("data points", "attributes");

        Assert.StartsWith("5 data points rejected (invalid_name: 3, missing_sum: 2), e.g. metric 'a': no sum; metric 'b': no sum; metric '1': bad.", text);
        Assert.Contains("2 attributes dropped, their points kept (too_many: 2)", text);
    }

    [Fact]
    public void EveryMappedPoint_PassesMetricRules()
    {
        var exponential = new Metric { Name = "exp", ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        var expPoint = new ExponentialHistogramDataPoint { TimeUnixNano = NowNanos, StartTimeUnixNano = StartNanos, Scale = 3, Count = 6, Sum = 20, ZeroCount = 1, Positive = new() { Offset = 4 }, Negative = new() { Offset = -2 } };
        expPoint.Positive.BucketCounts.Add([1, 2]);
        expPoint.Negative.BucketCounts.Add([2]);
        exponential.ExponentialHistogram.DataPoints.Add(expPoint);

        var (points, report) = Map(
            Gauge("g", Number(1)),
            Sum("s", true, AggregationTemporality.Cumulative, Number(1, start: StartNanos)),
            Histogram("h", AggregationTemporality.Cumulative, HistogramPoint([1, 2, 3], [1, 0, 0, 4], 20, 0.5, 9)),
            exponential);

        Assert.Equal(4, points.Count);
        Assert.Empty(MetricRules.Check(points, Now));
        Assert.Equal(0, report.RejectedCount);
    }
}
