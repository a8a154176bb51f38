using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A local stand-in for PostHog's capture, flags and remote-config APIs, as the
// .NET client and posthog-js call them:
// - capture: POST /batch/, /i/v0/e/, /capture/, and the browser's /e/ and /s/
//   (session recording); bodies plain JSON, gzip (?compression=gzip-js, as
//   posthog-js sends them, or Content-Encoding) or base64 form data
//   (?compression=base64, data=...), all decoded before they are recorded;
// - flags: POST /flags (v2 answer, configurable) and the older /decide;
// - remote config: GET /array/{token}/config, offering gzip-js compression and
//   session recording (to /s/) as PostHog does;
// - CORS for the dashboard's browser.
// Records every decoded body with the status it was answered with;
// FailNextBatches(n) answers the next n batch requests with 500, as an
// overloaded PostHog would.
public sealed class FakePostHogServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<PostHogRequest> _requests = new();
    private int _batchFailuresLeft;

    private FakePostHogServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<PostHogRequest> Requests => [.. _requests];

    public string FlagsResponse { get; set; } =
        """{"flags":{"new-dashboard":{"key":"new-dashboard","enabled":true,"variant":null},"pricing":{"key":"pricing","enabled":true,"variant":"b"}},"errorsWhileComputingFlags":false}""";

    public void FailNextBatches(int count) => Interlocked.Exchange(ref _batchFailuresLeft, count);

    public static async Task<FakePostHogServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakePostHogServer(app);
        app.UseBrowserCors();

        app.MapPost("/batch", context => server.CaptureAsync(context, failable: true));
        app.MapPost("/i/v0/e", context => server.CaptureAsync(context, failable: false));
        app.MapPost("/capture", context => server.CaptureAsync(context, failable: false));
        app.MapPost("/e", context => server.CaptureAsync(context, failable: false));
        app.MapPost("/s", context => server.CaptureAsync(context, failable: false));
        app.MapPost("/flags", context => server.FlagsAsync(context));
        app.MapPost("/decide", context => server.FlagsAsync(context));
        app.MapGet("/array/{token}/config", async (HttpContext context, string token) =>
        {
            server._requests.Enqueue(new PostHogRequest(context.Request.Path, "", StatusCodes.Status200OK, context.Request.QueryString.Value ?? ""));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject
            {
                ["token"] = token,
                ["supportedCompression"] = new JsonArray("gzip", "gzip-js"),
                ["hasFeatureFlags"] = true,
                ["autocapture_opt_out"] = false,
                ["capturePerformance"] = false,
                ["autocaptureExceptions"] = false,
                // Recording is allowed by the project; whether a page records is the client's choice.
                ["sessionRecording"] = new JsonObject { ["endpoint"] = "/s/" },
                ["heatmaps"] = false,
                ["surveys"] = false,
                ["defaultIdentifiedOnly"] = true,
                ["siteApps"] = new JsonArray(),
            }.ToJsonString());
        });

        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/');
        return server;
    }

    // Events from capture requests PostHog accepted (server batches and browser captures).
    public IReadOnlyList<JsonObject> AcceptedEvents =>
        [.. Requests.Where(r => r.Status == 200 && r.IsCapture).SelectMany(r => r.Events)];

    public Task WaitForAsync(Func<FakePostHogServer, bool> condition, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(() => this, condition, timeout ?? TimeSpan.FromSeconds(20),
            server => $"Condition not met; {server.Requests.Count} request(s) arrived ({string.Join(", ", server.Requests.Select(r => $"{r.Path} {r.Status}").Distinct())}), " +
                $"with events {string.Join(", ", server.AcceptedEvents.Select(e => $"{e["event"]} by {PostHogRequest.DistinctId(e)}").Distinct())}",
            TimeSpan.FromMilliseconds(50));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task FlagsAsync(HttpContext context)
    {
        var body = await PostHogBodies.ReadAsync(context.Request);
        _requests.Enqueue(new PostHogRequest(context.Request.Path + context.Request.QueryString, body, StatusCodes.Status200OK, context.Request.QueryString.Value ?? ""));
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(FlagsResponse);
    }

    private async Task CaptureAsync(HttpContext context, bool failable)
    {
        string body;
        try
        {
            body = await PostHogBodies.ReadAsync(context.Request);
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or FormatException)
        {
            // Recorded, so a test failing on it says what the client sent.
            _requests.Enqueue(new PostHogRequest(context.Request.Path.ToString(), e.Message, StatusCodes.Status400BadRequest, context.Request.QueryString.Value ?? ""));
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var fail = failable && Interlocked.Decrement(ref _batchFailuresLeft) >= 0;
        var status = fail ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
        _requests.Enqueue(new PostHogRequest(context.Request.Path.ToString(), body, status, context.Request.QueryString.Value ?? ""));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(fail ? """{"error":"overloaded"}""" : """{"status":1}""");
    }
}

public sealed record PostHogRequest(string Path, string Body, int Status, string Query = "")
{
    private static readonly string[] CapturePaths = ["/batch", "/i/v0/e", "/capture", "/e", "/s"];

    public bool IsCapture => CapturePaths.Any(p => Path.TrimEnd('/') == p);

    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    // A server batch carries {"api_key", "batch": [...]}; posthog-js posts an
    // array of events, or one event; a single capture is one event.
    public IEnumerable<JsonObject> Events => JsonNode.Parse(Body) switch
    {
        JsonArray events => events.Select(e => e!.AsObject()),
        JsonObject { } batch when batch["batch"] is JsonArray events => events.Select(e => e!.AsObject()),
        JsonObject single => [single],
        _ => [],
    };

    // A $snapshot event's rrweb events as JSON text, with the parts posthog-js
    // compressed (marked cv "2024-10": full snapshots' data, and mutation fields
    // of incremental ones, each a gzip stream as a latin-1 string) decompressed.
    public static string SnapshotText(JsonObject snapshotEvent)
    {
        var events = snapshotEvent["properties"]?["$snapshot_data"] as JsonArray ?? [];
        var decoded = new JsonArray();
        foreach (var item in events.OfType<JsonObject>())
        {
            var copy = item.DeepClone().AsObject();
            if (copy["cv"] is not null)
            {
                if (copy["data"] is JsonValue compressed && compressed.TryGetValue<string>(out var text))
                {
                    copy["data"] = Gunzip(text);
                }
                else if (copy["data"] is JsonObject fields)
                {
                    foreach (var (name, value) in fields.ToList())
                    {
                        if (value is JsonValue field && field.TryGetValue<string>(out var fieldText))
                        {
                            fields[name] = Gunzip(fieldText);
                        }
                    }
                }
            }

            decoded.Add(copy);
        }

        return decoded.ToJsonString();

        static JsonNode? Gunzip(string latin1) =>
            JsonNode.Parse(HttpBodies.Decompress(new GZipStream(new MemoryStream(Encoding.Latin1.GetBytes(latin1)), CompressionMode.Decompress)));
    }

    // The .NET client puts distinct_id on the event; posthog-js in its properties.
    public static string? DistinctId(JsonObject sentEvent) =>
        (string?)sentEvent["distinct_id"] ?? (string?)sentEvent["properties"]?["distinct_id"];
}

// What PostHog's clients send, decoded: Content-Encoding (the .NET client),
// ?compression=gzip-js (a gzip body, sent as text/plain by posthog-js) or
// ?compression=base64 (a form body data=BASE64(JSON), used for beacons).
internal static class PostHogBodies
{
    public static async Task<string> ReadAsync(HttpRequest request)
    {
        var raw = await HttpBodies.ReadDecompressedAsync(request);
        var compression = request.Query["compression"].ToString();
        if (raw is [0x1f, 0x8b, ..])
        {
            raw = HttpBodies.Decompress(new GZipStream(new MemoryStream(raw), CompressionMode.Decompress));
        }
        else if (compression == "gzip-js" || compression == "gzip")
        {
            throw new InvalidOperationException($"The body of {request.Path} was announced as {compression} but is not gzip.");
        }

        var text = Encoding.UTF8.GetString(raw);
        if (text.StartsWith("data=", StringComparison.Ordinal))
        {
            var data = Uri.UnescapeDataString(text["data=".Length..].Replace('+', ' ')).Trim();
            text = data.StartsWith('{') || data.StartsWith('[') ? data : Encoding.UTF8.GetString(Convert.FromBase64String(data));
        }

        return text;
    }
}
