using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A local stand-in for PostHog's capture and flags APIs: POST /batch/,
// /i/v0/e/, /capture/ and /flags (v2 answer, configurable). Records every raw
// body with the status it was answered with; FailNextBatches(n) answers the
// next n batch requests with 500, as an overloaded PostHog would.
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

        app.MapPost("/batch", context => server.CaptureAsync(context, failable: true));
        app.MapPost("/i/v0/e", context => server.CaptureAsync(context, failable: false));
        app.MapPost("/capture", context => server.CaptureAsync(context, failable: false));
        app.MapPost("/flags", async context =>
        {
            var body = Encoding.UTF8.GetString(await HttpBodies.ReadDecompressedAsync(context.Request));
            server._requests.Enqueue(new PostHogRequest(context.Request.Path + context.Request.QueryString, body, StatusCodes.Status200OK));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(server.FlagsResponse);
        });

        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/');
        return server;
    }

    // Events from batch (and single capture) requests PostHog accepted.
    public IReadOnlyList<JsonObject> AcceptedEvents => [.. Requests.Where(r => r.Status == 200 && !r.Path.StartsWith("/flags", StringComparison.Ordinal)).SelectMany(r => r.Events)];

    public Task WaitForAsync(Func<FakePostHogServer, bool> condition, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(() => this, condition, timeout ?? TimeSpan.FromSeconds(20),
            server => $"Condition not met; {server.Requests.Count} request(s) arrived.", TimeSpan.FromMilliseconds(50));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task CaptureAsync(HttpContext context, bool failable)
    {
        var body = Encoding.UTF8.GetString(await HttpBodies.ReadDecompressedAsync(context.Request));
        var fail = failable && Interlocked.Decrement(ref _batchFailuresLeft) >= 0;
        var status = fail ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
        _requests.Enqueue(new PostHogRequest(context.Request.Path.ToString(), body, status));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(fail ? """{"error":"overloaded"}""" : """{"status":1}""");
    }
}

public sealed record PostHogRequest(string Path, string Body, int Status)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    // A batch carries {"api_key", "batch": [...]}; a single capture is one event.
    public IEnumerable<JsonObject> Events => Json["batch"] is JsonArray batch
        ? batch.Select(e => e!.AsObject())
        : [Json];
}
