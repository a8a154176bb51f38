using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A local server that speaks Datadog's POST /api/v2/series: it checks the key,
// inflates gzip bodies, records exactly what arrived, and can be told to fail.
public sealed class FakeDatadogIntake : IAsyncDisposable
{
    public const string ApiKey = "test-datadog-key";

    public sealed record Request(string? ApiKey, string? ContentEncoding, int WireBytes, int Bytes, JsonDocument Body);

    private readonly WebApplication _app;
    private int _failuresLeft;

    public ConcurrentQueue<Request> Requests { get; } = new();

    public int Rejected => _rejected;
    private int _rejected;

    public string BaseUrl { get; }

    private FakeDatadogIntake(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    // The next N requests get 500 (nothing recorded).
    public void FailNext(int count) => Interlocked.Exchange(ref _failuresLeft, count);

    public static async Task<FakeDatadogIntake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeDatadogIntake? intake = null;
        app.MapPost("/api/v2/series", async (HttpRequest request) =>
        {
            if (Interlocked.Decrement(ref intake!._failuresLeft) >= 0)
            {
                Interlocked.Increment(ref intake._rejected);
                return Results.StatusCode(500);
            }

            using var wire = new MemoryStream();
            await request.Body.CopyToAsync(wire);
            var bytes = wire.ToArray();
            var encoding = request.Headers.ContentEncoding.ToString();
            var json = encoding == "gzip" ? Inflate(bytes) : bytes;
            intake.Requests.Enqueue(new Request(request.Headers["DD-API-KEY"].ToString(), encoding, bytes.Length, json.Length, JsonDocument.Parse(json)));
            return Results.Json(new { errors = Array.Empty<string>() }, statusCode: 202);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        intake = new FakeDatadogIntake(app, address);
        return intake;
    }

    // Every point received for one metric, as (timestamp, value, tags).
    public List<(long Timestamp, double Value, string[] Tags)> Points(string metric) =>
        Requests.SelectMany(r => r.Body.RootElement.GetProperty("series").EnumerateArray())
            .Where(s => s.GetProperty("metric").GetString() == metric)
            .SelectMany(s => s.GetProperty("points").EnumerateArray().Select(p => (
                p.GetProperty("timestamp").GetInt64(),
                p.GetProperty("value").GetDouble(),
                s.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray())))
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
