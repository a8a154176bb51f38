using System.IO.Compression;
using System.Text;
using ContentMax.Ingestion;
using ContentMax.Ingestion.OpenTelemetry;
using ContentMax.Ingestion.OpenTelemetry.Proto.Collector.Metrics.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Metrics.V1;
using ContentMax.Ingestion.Protocols;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace ContentMax.UnitTests;

public class OtlpDecodingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly string NowNanos = ((ulong)Now.ToUnixTimeMilliseconds() * 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    // OTLP JSON as the SDKs send it: lowerCamelCase names, enums as integers,
    // 64-bit integers as strings, hex trace ids in exemplars, and fields this
    // server does not know.
    private static string OtlpJson => $$"""
        {
          "resourceMetrics": [{
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "checkout" } }] },
            "scopeMetrics": [{
              "scope": { "name": "shop.orders", "version": "1.0" },
              "metrics": [
                {
                  "name": "orders.placed", "unit": "{order}",
                  "sum": {
                    "aggregationTemporality": 2, "isMonotonic": true,
                    "dataPoints": [{
                      "asInt": "42", "startTimeUnixNano": "{{NowNanos[..^10]}}0000000000", "timeUnixNano": "{{NowNanos}}",
                      "attributes": [{ "key": "region", "value": { "stringValue": "eu" } }, { "key": "retries", "value": { "intValue": "3" } }],
                      "exemplars": [{ "asDouble": 1.5, "timeUnixNano": "{{NowNanos}}", "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174" }]
                    }]
                  }
                },
                {
                  "name": "order.value",
                  "histogram": {
                    "aggregationTemporality": 1,
                    "dataPoints": [{ "count": "3", "sum": 60.5, "min": 10, "max": 30.5, "bucketCounts": ["1", "2"], "explicitBounds": [20], "timeUnixNano": "{{NowNanos}}" }]
                  }
                }
              ]
            }],
            "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"
          }],
          "someFutureField": { "x": 1 }
        }
        """;

    [Fact]
    public void Decode_OtlpJson_ReadsWhatTheSdksSend()
    {
        var request = OtlpEndpoints.Decode(Encoding.UTF8.GetBytes(OtlpJson), json: true);

        var points = OtlpMetricsMapper.Map(request, Now, new MappingReport());

        Assert.Equal(2, points.Count);
        Assert.Equal(42, points[0].Value);
        Assert.NotNull(points[0].Cumulative);
        Assert.Equal(new Dictionary<string, string> { ["service"] = "checkout", ["region"] = "eu", ["retries"] = "3" }, points[0].Tags);
        Assert.Equal(60.5, points[1].Value);
        Assert.Equal([1L, 2], points[1].Distribution!.BucketCounts);
        Assert.Equal(30.5, points[1].Distribution!.Max);
    }

    [Fact]
    public void Decode_Protobuf_RoundTrips()
    {
        var original = OtlpEndpoints.Decode(Encoding.UTF8.GetBytes(OtlpJson), json: true);

        var decoded = OtlpEndpoints.Decode(original.ToByteArray(), json: false);

        Assert.Equal(original, decoded);
        Assert.Equal(AggregationTemporality.Cumulative, decoded.ResourceMetrics[0].ScopeMetrics[0].Metrics[0].Sum.AggregationTemporality);
    }

    [Fact]
    public void Decode_EmptyProtobufBody_IsAnEmptyRequest()
    {
        Assert.Empty(OtlpEndpoints.Decode([], json: false).ResourceMetrics);
    }

    [Theory]
    [InlineData("not json at all", true)]
    [InlineData("""{"resourceMetrics": 5}""", true)]
    [InlineData("""{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"sum": {"dataPoints": [{"asInt": "x"}]}}]}]}]}""", true)]
    [InlineData("\u0008\u0096\u0001\u00ff\u00ff", false)]
    public void Decode_Garbage_Throws(string body, bool json)
    {
        var bytes = json ? Encoding.UTF8.GetBytes(body) : body.Select(c => (byte)c).ToArray();

        var error = Record.Exception(() => OtlpEndpoints.Decode(bytes, json));

        Assert.True(error is InvalidProtocolBufferException or InvalidJsonException or FormatException, error?.GetType().Name ?? "no exception");
    }

    [Fact]
    public void Gunzip_DecompressesAGzipBody()
    {
        var json = Encoding.UTF8.GetBytes(OtlpJson);

        var decompressed = ProtocolBody.Gunzip(Gzip(json));

        Assert.Equal(json, decompressed);
        Assert.Equal(2, OtlpEndpoints.Decode(decompressed!, json: true).ResourceMetrics[0].ScopeMetrics[0].Metrics.Count);
    }

    [Fact]
    public void Gunzip_BeyondTheCap_IsNull()
    {
        var bomb = Gzip(new byte[3 * 1024 * 1024]);

        Assert.True(bomb.Length < 100_000);
        Assert.Null(ProtocolBody.Gunzip(bomb, maxBytes: 1024 * 1024));
        Assert.NotNull(ProtocolBody.Gunzip(bomb, maxBytes: 3 * 1024 * 1024));
    }

    [Fact]
    public void Gunzip_NotGzip_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => ProtocolBody.Gunzip(Encoding.UTF8.GetBytes("plain text, not gzip")));
    }

    [Fact]
    public async Task ReadAsync_BodyOverTheLimit_IsNull()
    {
        Assert.Null(await ProtocolBody.ReadAsync(Request(new byte[2000], declareLength: true), 1024, default));
        Assert.Null(await ProtocolBody.ReadAsync(Request(new byte[2000], declareLength: false), 1024, default));
        Assert.Equal(1024, (await ProtocolBody.ReadAsync(Request(new byte[1024], declareLength: false), 1024, default))!.Length);
        Assert.Empty((await ProtocolBody.ReadAsync(Request([], declareLength: true), 1024, default))!);
    }

    [Fact]
    public void Response_WithPartialSuccess_IsOtlpJson()
    {
        var response = new ExportMetricsServiceResponse
        {
            PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = 3, ErrorMessage = "3 data points rejected" },
        };

        var json = JsonFormatter.Default.Format(response);

        Assert.Contains("\"partialSuccess\"", json);
        Assert.Contains("\"rejectedDataPoints\": \"3\"", json);
        Assert.Equal(response, ExportMetricsServiceResponse.Parser.ParseJson(json));
    }

    private static HttpRequest Request(byte[] body, bool declareLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        if (declareLength) context.Request.ContentLength = body.Length;
        return context.Request;
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }
}
