using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ContentMax.Ingestion.OpenTelemetry.Proto.Rpc;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ContentMax.IntegrationTests;

// OTLP/HTTP ingestion, first with the real OpenTelemetry .NET SDK and its OTLP
// exporter (cumulative temporality, the SDK's default), then the protocol's
// answers to what the SDK never sends.
[Collection(AppHostCollection.Name)]
public class OtlpIngestionTests(AppHostFixture fixture)
{
    private static readonly double[] Boundaries = [5, 10, 25, 50, 100, 250, 500, 1000];

    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
    private readonly Uri _endpoint = new(fixture.App.GetEndpoint("ingestion", "http"), "/v1/metrics");

    [Fact]
    public async Task OpenTelemetrySdk_RepeatedCumulativeExportsAndARestart_AreStoredOnce()
    {
        var prefix = MetricsApi.UniqueName("otlp");
        var (counterName, upDownName, gaugeName, histogramName) = ($"{prefix}.requests", $"{prefix}.in_flight", $"{prefix}.temperature", $"{prefix}.latency");
        var service = prefix + "-service";
        var random = new Random(42);
        // Whole numbers, so the histogram's sum is exact however the deltas are added up.
        var observations = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 40).Select(_ => (double)random.Next(1, 1200)).ToArray()).ToArray();

        // The first run of the "service": two rounds of recording, three exports
        // (the last repeats the second's totals).
        using (var provider = CreateProvider(prefix, service, histogramName))
        using (var meter = new Meter(prefix))
        {
            var counter = meter.CreateCounter<long>(counterName);
            var upDown = meter.CreateUpDownCounter<long>(upDownName);
            var gauge = meter.CreateGauge<double>(gaugeName);
            var histogram = meter.CreateHistogram<double>(histogramName);

            counter.Add(5);
            upDown.Add(10);
            gauge.Record(21.5);
            foreach (var value in observations[0]) histogram.Record(value);
            Assert.True(provider.ForceFlush(10_000), "the first export failed");

            counter.Add(7);
            upDown.Add(-4);
            gauge.Record(22.25);
            foreach (var value in observations[1]) histogram.Record(value);
            Assert.True(provider.ForceFlush(10_000), "the second export failed");
            await Task.Delay(5);
            Assert.True(provider.ForceFlush(10_000), "the repeated export failed");
        }

        // A restart: a new provider, so new start times, for the same instruments and attributes.
        await Task.Delay(5);
        using (var provider = CreateProvider(prefix, service, histogramName))
        using (var meter = new Meter(prefix))
        {
            meter.CreateCounter<long>(counterName).Add(3);
            meter.CreateUpDownCounter<long>(upDownName).Add(2);
            meter.CreateGauge<double>(gaugeName).Record(19);
            var histogram = meter.CreateHistogram<double>(histogramName);
            foreach (var value in observations[2]) histogram.Record(value);
            Assert.True(provider.ForceFlush(10_000), "the export after the restart failed");
            await Task.Delay(5);
            Assert.True(provider.ForceFlush(10_000), "the repeated export after the restart failed");
        }

        // The counter: 5 + 7 before the restart, 3 after; the repeated exports add nothing.
        await Eventually.UntilAsync(() => _aggregation.AggregateAsync(counterName),
            a => a is not null && a["sum"]!.GetValue<double>() >= 15, TimeSpan.FromSeconds(30),
            a => $"{counterName} summed to {a?["sum"]} instead of 15.", TimeSpan.FromMilliseconds(200));

        var all = observations.SelectMany(o => o).Order().ToArray();
        var stored = await _aggregation.WaitForCountAsync(histogramName, all.Length);
        Assert.Equal(all.Length, stored["count"]!.GetValue<long>());
        Assert.Equal(all.Sum(), stored["sum"]!.GetValue<double>());
        var trueP95 = all[(95 * all.Length + 99) / 100 - 1];
        // The explicit bucket (lower, upper] that holds the true p95; the outer buckets end at the extremes.
        var upper = Boundaries.FirstOrDefault(b => b >= trueP95, all[^1]);
        var lower = Boundaries.LastOrDefault(b => b < trueP95, all[0]);
        Assert.InRange(stored["p95"]!.GetValue<double>(), lower * 0.995, upper * 1.005);

        // The up-down counter's latest value is the one after the restart; the gauge kept every value it had.
        var upDownRows = await WaitForRawAsync(upDownName, rows => HasValues(rows, 10, 6, 2));
        Assert.Equal(2, upDownRows[0]["value"]!.GetValue<double>());
        Assert.Equal([10.0, 6, 2], upDownRows.OrderBy(r => r["timestamp"]!.GetValue<long>()).Select(r => r["value"]!.GetValue<double>()).Distinct());
        var gaugeRows = await WaitForRawAsync(gaugeName, rows => HasValues(rows, 21.5, 22.25, 19));
        Assert.Equal([19.0, 21.5, 22.25], gaugeRows.Select(r => r["value"]!.GetValue<double>()).Distinct().Order());
        Assert.All(gaugeRows, r => Assert.Equal(service, r["tags"]!["service"]!.GetValue<string>()));

        // Settled: nothing more arrives for the counter.
        await Task.Delay(1000);
        Assert.Equal(15, (await _aggregation.AggregateAsync(counterName))!["sum"]!.GetValue<double>());
    }

    [Fact]
    public async Task GzipJsonExport_WithAnInvalidPoint_IsAPartialSuccess_AndTheRestIsStored()
    {
        var name = MetricsApi.UniqueName("otlp");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var tooOld = DateTimeOffset.UtcNow.AddDays(-8).ToUnixTimeMilliseconds() * 1_000_000;
        var json = $$$"""
            {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-client"}}]},
              "scopeMetrics":[{"scope":{"name":"manual"},"metrics":[{"name":"{{{name}}}","gauge":{"dataPoints":[
                {"asDouble":12.5,"timeUnixNano":"{{{now}}}","attributes":[{"key":"region","value":{"stringValue":"eu"}}]},
                {"asDouble":99,"timeUnixNano":"{{{tooOld}}}"}]}}]}]}]}
            """;
        using var content = new ByteArrayContent(Gzip(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");

        var response = await Ingestion().PostAsync("/v1/metrics", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("1", body["partialSuccess"]!["rejectedDataPoints"]!.ToString());
        Assert.Contains("timestamp_out_of_range", body["partialSuccess"]!["errorMessage"]!.GetValue<string>());
        var aggregate = await _aggregation.WaitForCountAsync(name, 1);
        Assert.Equal(12.5, aggregate["sum"]!.GetValue<double>());
    }

    [Fact]
    public async Task UndecodableProtobuf_Is400WithAStatusBody()
    {
        using var content = new ByteArrayContent([0x0a, 0xff, 0xff, 0xff, 0x0f]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");

        var response = await Ingestion().PostAsync("/v1/metrics", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        var status = Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(3, status.Code); // INVALID_ARGUMENT
        Assert.Contains("ExportMetricsServiceRequest", status.Message);
    }

    [Fact]
    public async Task OtherContentTypes_Are415_AndNoKeyIs401()
    {
        var unsupported = await Ingestion().PostAsync("/v1/metrics", new StringContent("x", Encoding.UTF8, "text/plain"));
        var anonymous = await fixture.Client("ingestion", key: null).PostAsync("/v1/metrics", new ByteArrayContent([]) { Headers = { ContentType = new("application/x-protobuf") } });

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        await unsupported.ProblemAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private HttpClient Ingestion() => fixture.Client("ingestion", AppHostFixture.IngestKey);

    private MeterProvider CreateProvider(string meterName, string service, string histogramName) =>
        Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService(service))
            .AddMeter(meterName)
            .AddView(histogramName, new ExplicitBucketHistogramConfiguration { Boundaries = Boundaries })
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                // Set in code, the endpoint is the full URL: the SDK appends /v1/metrics only to the environment variable's.
                exporter.Endpoint = _endpoint;
                exporter.Headers = $"X-Api-Key={AppHostFixture.IngestKey}";
                exporter.Compression = OtlpExportCompression.GZip;
                // Exports happen when the test flushes, not on a timer.
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            })
            .Build()!;

    private async Task<List<JsonObject>> WaitForRawAsync(string metric, Func<List<JsonObject>, bool> done) =>
        await Eventually.UntilAsync(async () =>
            {
                var body = JsonNode.Parse(await _aggregation.GetStringAsync($"/api/metrics/raw?metric={metric}&period=1h&limit=1000"))!;
                return body["items"]!.AsArray().Select(item => item!.AsObject()).ToList();
            },
            done, TimeSpan.FromSeconds(30), rows => $"{metric}: {rows.Count} rows, values {string.Join(", ", rows.Select(r => r["value"]))}",
            TimeSpan.FromMilliseconds(200));

    private static bool HasValues(List<JsonObject> rows, params double[] values) =>
        values.All(v => rows.Any(r => r["value"]!.GetValue<double>() == v));

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }
}
