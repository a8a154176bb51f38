using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A local webhook endpoint for alert notifications: every POST is recorded by
// path (/generic, /slack, /alertmanager, ...), and a path can be told to fail.
public sealed class FakeWebhookReceiver : IAsyncDisposable
{
    public sealed record Delivery(string Path, string? Authorization, JsonObject Body, DateTimeOffset At);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _failuresLeft = new();

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public string BaseUrl { get; }

    private FakeWebhookReceiver(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    // Every request's full path, as it arrived.
    public System.Collections.Concurrent.ConcurrentQueue<string> Paths { get; } = new();

    // The next N requests to the path get 500 and are not recorded.
    public void FailNext(string path, int count) => _failuresLeft[path] = count;

    public static async Task<FakeWebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeWebhookReceiver? receiver = null;
        // The first segment names the receiver; a Slack-like URL goes on with its token (/slack/T000/B000/token).
        app.MapPost("/{path}/{**rest}", async (string path, HttpRequest request) =>
        {
            receiver!.Paths.Enqueue(request.Path.Value ?? "");
            if (receiver!._failuresLeft.TryGetValue(path, out var left) && left > 0)
            {
                receiver._failuresLeft[path] = left - 1;
                return Results.StatusCode(500);
            }

            var body = (await JsonNode.ParseAsync(request.Body))!.AsObject();
            receiver.Deliveries.Enqueue(new Delivery(path, request.Headers.Authorization.ToString(), body, DateTimeOffset.UtcNow));
            return Results.Ok();
        });
        await app.StartAsync();
        receiver = new FakeWebhookReceiver(app, app.Urls.First());
        return receiver;
    }

    // The rule id a delivery is about, whatever its format.
    public static string? RuleOf(Delivery delivery) => delivery.Path switch
    {
        "slack" => null,
        "alertmanager" => delivery.Body["groupLabels"]?["alertname"]?.GetValue<string>(),
        _ => delivery.Body["alert"]?["id"]?.GetValue<string>(),
    };

    public List<Delivery> For(string path, string ruleId) =>
        Deliveries.Where(d => d.Path == path && (path == "slack"
            ? d.Body.ToJsonString().Contains(ruleId, StringComparison.Ordinal)
            : RuleOf(d) == ruleId)).ToList();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
