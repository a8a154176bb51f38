using ContentMax.Contracts;
using ContentMax.Ingestion;
using ContentMax.Ingestion.Prometheus;
using ContentMax.Ingestion.Prometheus.Proto;
using ContentMax.Ingestion.Protocols;
using Google.Protobuf;
using Snappier;
using MetricType = ContentMax.Ingestion.Prometheus.Proto.MetricMetadata.Types.MetricType;

namespace ContentMax.UnitTests;

public class RemoteWriteMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly long NowMs = Now.ToUnixTimeMilliseconds();

    private static TimeSeries Series(string name, (string Name, string Value)[] labels, params (double Value, long Timestamp)[] samples)
    {
        var series = new TimeSeries();
        series.Labels.Add(new Label { Name = "__name__", Value = name });
        series.Labels.Add(labels.Select(l => new Label { Name = l.Name, Value = l.Value }));
        series.Samples.Add(samples.Select(s => new Sample { Value = s.Value, Timestamp = s.Timestamp }));
        return series;
    }

    private static TimeSeries Series(string name, params double[] values) =>
        Series(name, [("job", "api"), ("instance", "host:9100")], values.Select((v, i) => (v, NowMs - 1000 * (values.Length - i))).ToArray());

    private static WriteRequest Request(params TimeSeries[] series)
    {
        var request = new WriteRequest();
        request.Timeseries.Add(series);
        return request;
    }

    private static (List<MetricPoint> Points, MappingReport Report) Map(WriteRequest request, PrometheusFamilies? families = null)
    {
        var report = new MappingReport();
        return (RemoteWriteMapper.Map(request, families ?? new PrometheusFamilies(), Now, report), report);
    }

    private static MetricMetadata Metadata(string family, MetricType type) => new() { MetricFamilyName = family, Type = type };

    [Fact]
    public void Labels_BecomeTags_ExceptNameAndInternalLabels()
    {
        var series = Series("node_load1", [("job", "node"), ("instance", "h:9100"), ("__meta_x", "y")], (0.5, NowMs));

        var point = Assert.Single(Map(Request(series)).Points);

        Assert.Equal("node_load1", point.Metric);
        Assert.Equal(0.5, point.Value);
        Assert.Equal(NowMs, point.Timestamp);
        Assert.Equal(new Dictionary<string, string> { ["instance"] = "h:9100", ["job"] = "node" }, point.Tags);
        Assert.Null(point.Cumulative);
        Assert.Null(point.Distribution);
    }

    [Fact]
    public void TotalSuffix_IsACounter_WithUnknownStartTime()
    {
        var points = Map(Request(Series("http_requests_total", 10, 12, 15))).Points;

        Assert.Equal([10.0, 12, 15], points.Select(p => p.Value));
        Assert.All(points, p => Assert.Equal(0, p.Cumulative!.StartTime));
        Assert.Single(points.Select(p => p.Cumulative!.Series).Distinct());
        Assert.Empty(MetricRules.Check(points, Now));
    }

    [Fact]
    public void CounterSeries_DependsOnEveryLabel()
    {
        Guid SeriesOf(params (string, string)[] labels) =>
            Map(Request(Series("x_total", labels, (1, NowMs)))).Points.Single().Cumulative!.Series;

        var baseline = SeriesOf(("job", "a"), ("code", "200"));

        Assert.Equal(baseline, SeriesOf(("code", "200"), ("job", "a")));
        Assert.NotEqual(baseline, SeriesOf(("job", "a"), ("code", "500")));
        Assert.NotEqual(baseline, SeriesOf(("job", "a")));
        Assert.NotEqual(baseline, SeriesOf(("job", "a"), ("code", "200"), ("__tenant", "t")));
    }

    [Fact]
    public void MetadataTypes_DecideWhatIsACounter_AndAreRememberedAcrossRequests()
    {
        var families = new PrometheusFamilies();
        var metadata = Request();
        metadata.Metadata.Add([
            Metadata("jobs_processed", MetricType.Counter),
            Metadata("request_duration_seconds", MetricType.Histogram),
            Metadata("rpc_latency", MetricType.Summary),
            Metadata("temperature", MetricType.Gauge),
        ]);
        Assert.Empty(Map(metadata, families).Points);

        var points = Map(Request(
            Series("jobs_processed", 5),
            Series("request_duration_seconds_bucket", [("le", "0.5")], (3, NowMs)),
            Series("request_duration_seconds_sum", 1.5),
            Series("request_duration_seconds_count", 3),
            Series("rpc_latency", [("quantile", "0.99")], (0.2, NowMs)),
            Series("rpc_latency_count", 7),
            Series("temperature", 21),
            Series("unknown_family", 1)), families).Points;

        Assert.Equal(
            ["jobs_processed", "request_duration_seconds_bucket", "request_duration_seconds_sum", "request_duration_seconds_count", "rpc_latency_count"],
            points.Where(p => p.Cumulative is not null).Select(p => p.Metric));
        Assert.Equal(["rpc_latency", "temperature", "unknown_family"], points.Where(p => p.Cumulative is null).Select(p => p.Metric));
        Assert.Equal("0.5", points[1].Tags!["le"]);
    }

    [Fact]
    public void NaNStaleMarkersAndInfinities_AreSkippedAndCounted()
    {
        var staleMarker = BitConverter.Int64BitsToDouble(0x7ff0000000000002);

        var (points, report) = Map(Request(Series("up", 1, double.NaN, staleMarker, double.PositiveInfinity, double.NegativeInfinity, 0)));

        Assert.Equal([1.0, 0], points.Select(p => p.Value));
        Assert.Equal(1, report.Skipped["nan"]);
        Assert.Equal(1, report.Skipped["stale_marker"]);
        Assert.Equal(2, report.Skipped["infinite"]);
        Assert.Equal(0, report.RejectedCount);
    }

    [Fact]
    public void InvalidSamples_AreRejectedAndCounted_TheRestKept()
    {
        var tooOld = NowMs - (long)TimeSpan.FromDays(8).TotalMilliseconds;
        var nameless = new TimeSeries();
        nameless.Labels.Add(new Label { Name = "job", Value = "x" });
        nameless.Samples.Add(new Sample { Value = 1, Timestamp = NowMs });

        var (points, report) = Map(Request(
            Series("good", [("job", "a")], (1, tooOld), (2, NowMs)),
            Series("_starts_with_underscore", 1, 2),
            nameless));

        Assert.Equal(2, Assert.Single(points).Value);
        Assert.Equal(1, report.Rejected["timestamp_out_of_range"]);
        Assert.Equal(2, report.Rejected["invalid_name"]);
        Assert.Equal(1, report.Rejected["missing_name"]);
    }

    [Fact]
    public void LabelsBeyondTheLimits_AreDroppedAndCountedPerSample()
    {
        var labels = Enumerable.Range(0, 35).Select(i => ($"l{i:D2}", "v"))
            .Append(("long", new string('x', MetricRules.MaxTagValueLength + 1)))
            .ToArray();

        var (points, report) = Map(Request(Series("m", labels, (1, NowMs), (2, NowMs + 1))));

        Assert.Equal(2, points.Count);
        Assert.All(points, p => Assert.Equal(MetricRules.MaxTags, p.Tags!.Count));
        Assert.Empty(MetricRules.Check(points, Now));
        Assert.Equal(2 * 3, report.DroppedTags["too_many"]);
        Assert.Equal(2, report.DroppedTags["value_length"]);
    }

    [Fact]
    public void Families_AreBounded()
    {
        var families = new PrometheusFamilies(capacity: 10);

        for (var i = 0; i < 25; i++) families.Remember($"family_{i}", MetricType.Counter);

        Assert.InRange(families.Count, 1, 10);
        Assert.True(families.IsCounter("family_24"));
    }

    [Fact]
    public void Decode_SnappyBlockProtobuf_RoundTrips()
    {
        var request = Request(Series("x_total", 1, 2));
        request.Metadata.Add(Metadata("x", MetricType.Counter));

        var decoded = RemoteWriteEndpoints.Decode(Snappy.CompressToArray(request.ToByteArray()));

        Assert.Equal(request, decoded);
    }

    [Fact]
    public void Decode_NotSnappy_ThrowsInvalidData()
    {
        var notSnappy = new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };

        Assert.Throws<InvalidDataException>(() => RemoteWriteEndpoints.Decode(notSnappy));
    }

    [Fact]
    public void Decode_SnappyButNotProtobuf_ThrowsInvalidProtocolBuffer()
    {
        Assert.Throws<InvalidProtocolBufferException>(() => RemoteWriteEndpoints.Decode(Snappy.CompressToArray([0x0a, 0xff, 0xff, 0xff])));
    }

    [Fact]
    public void Decode_BeyondTheDecompressedCap_IsNull()
    {
        var bomb = Snappy.CompressToArray(new byte[ProtocolBody.MaxDecompressedBytes + 1]);

        Assert.True(bomb.Length < 1024 * 1024);
        Assert.Null(RemoteWriteEndpoints.Decode(bomb));
    }
}
