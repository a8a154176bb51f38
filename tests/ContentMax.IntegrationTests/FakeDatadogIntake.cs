using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A local server that speaks Datadog's POST /api/v2/series and POST
// /api/v1/distribution_points: it checks the key, inflates gzip bodies,
// records exactly what arrived, and can be told to fail (500), to refuse the
// key (403), or to reject bodies holding a given value (400), as Datadog does
// with a malformed point.
public sealed class FakeDatadogIntake : IAsyncDisposable
{
    public const string ApiKey = "test-datadog-key";

    public sealed record Request(string Path, string? ApiKey, string? ContentEncoding, int WireBytes, int Bytes, JsonDocument Body);

    private readonly WebApplication _app;
    private int _failuresLeft;
    private int _keyRefusalsLeft;
    private readonly ConcurrentDictionary<double, bool> _poison = new();

    public ConcurrentQueue<Request> Requests { get; } = new();

    public int Rejected => _rejected;
    private int _rejected;

    public int KeyRefused => _keyRefused;
    private int _keyRefused;

    public int BadRequests => _badRequests;
    private int _badRequests;

    public string BaseUrl { get; }

    private FakeDatadogIntake(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    // The next N requests get 500 (nothing recorded).
    public void FailNext(int count) => Interlocked.Exchange(ref _failuresLeft, count);

    // The next N requests get 403, as a revoked key does.
    public void RefuseKeyNext(int count) => Interlocked.Exchange(ref _keyRefusalsLeft, count);

    // Any body holding this value gets 400.
    public void RejectValue(double value) => _poison[value] = true;

    public static async Task<FakeDatadogIntake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeDatadogIntake? intake = null;
        async Task<IResult> ReceiveAsync(HttpRequest request)
        {
            if (Interlocked.Decrement(ref intake!._failuresLeft) >= 0)
            {
                Interlocked.Increment(ref intake._rejected);
                return Results.StatusCode(500);
            }

            if (Interlocked.Decrement(ref intake._keyRefusalsLeft) >= 0)
            {
                Interlocked.Increment(ref intake._keyRefused);
                return Results.Json(new { errors = new[] { "Forbidden" } }, statusCode: 403);
            }

            using var wire = new MemoryStream();
            await request.Body.CopyToAsync(wire);
            var bytes = wire.ToArray();
            var encoding = request.Headers.ContentEncoding.ToString();
            var json = encoding == "gzip" ? Inflate(bytes) : bytes;
            var body = JsonDocument.Parse(json);
            if (!intake._poison.IsEmpty && Values(body.RootElement).Any(v => intake._poison.ContainsKey(v)))
            {
                Interlocked.Increment(ref intake._badRequests);
                return Results.Json(new { errors = new[] { "Invalid point" } }, statusCode: 400);
            }

            intake.Requests.Enqueue(new Request(request.Path, request.Headers["DD-API-KEY"].ToString(), encoding, bytes.Length, json.Length, body));
            return Results.Json(new { errors = Array.Empty<string>() }, statusCode: 202);
        }

        app.MapPost("/api/v2/series", ReceiveAsync);
        app.MapPost("/api/v1/distribution_points", ReceiveAsync);
        await app.StartAsync();
        var address = app.Urls.First();
        intake = new FakeDatadogIntake(app, address);
        return intake;
    }

    private static IEnumerable<double> Values(JsonElement root) =>
        root.GetProperty("series").EnumerateArray().SelectMany(s => s.GetProperty("points").EnumerateArray()).SelectMany(p =>
            p.ValueKind == JsonValueKind.Array ? p[1].EnumerateArray().Select(v => v.GetDouble()) : [p.GetProperty("value").GetDouble()]);

    // Every series point received for one metric, as (type, timestamp, value, tags).
    public List<(int Type, long Timestamp, double Value, string[] Tags)> Points(string metric) =>
        Requests.Where(r => r.Path == "/api/v2/series")
            .SelectMany(r => r.Body.RootElement.GetProperty("series").EnumerateArray())
            .Where(s => s.GetProperty("metric").GetString() == metric)
            .SelectMany(s => s.GetProperty("points").EnumerateArray().Select(p => (
                s.GetProperty("type").GetInt32(),
                p.GetProperty("timestamp").GetInt64(),
                p.GetProperty("value").GetDouble(),
                s.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray())))
            .ToList();

    // Every distribution value received for one metric, as (timestamp, value, tags).
    public List<(long Timestamp, double Value, string[] Tags)> DistributionValues(string metric) =>
        Requests.Where(r => r.Path == "/api/v1/distribution_points")
            .SelectMany(r => r.Body.RootElement.GetProperty("series").EnumerateArray())
            .Where(s => s.GetProperty("metric").GetString() == metric)
            .SelectMany(s => s.GetProperty("points").EnumerateArray().SelectMany(p => p[1].EnumerateArray().Select(v => (
                p[0].GetInt64(),
                v.GetDouble(),
                s.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray()))))
            .ToList();

    private static byte[] Inflate(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
