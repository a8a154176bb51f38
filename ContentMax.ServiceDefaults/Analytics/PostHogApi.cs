using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace ContentMax.ServiceDefaults.Analytics;

// The two PostHog endpoints the server uses: POST /batch/ and POST /flags?v=2.
// It has an HttpClient of its own rather than one from IHttpClientFactory: the
// shared defaults add a resilience handler (which would retry under the
// batcher's own retries) and Sentry's breadcrumbs (which would put analytics
// traffic into every error report).
public sealed class PostHogApi(HttpClient http, PostHogOptions options) : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    public static PostHogApi Create(PostHogOptions options) => new(
        new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        })
        { Timeout = Timeout.InfiniteTimeSpan },
        options);

    public Uri BatchUri { get; } = new(options.BaseUri(), "batch/");
    public Uri FlagsUri { get; } = new(options.BaseUri(), "flags?v=2");

    // The body is built once per batch and re-sent byte for byte on retries.
    public static byte[] BatchBody(string apiKey, IEnumerable<PostHogEvent> events)
    {
        var body = new JsonObject
        {
            ["api_key"] = apiKey,
            ["batch"] = new JsonArray([.. events.Select(e => (JsonNode)e.ToJson())]),
        };
        return System.Text.Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    public Task<HttpResponseMessage> PostBatchAsync(byte[] body, CancellationToken cancellationToken) =>
        PostAsync(BatchUri, body, cancellationToken);

    public Task<HttpResponseMessage> PostFlagsAsync(string distinctId, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["api_key"] = options.ProjectApiKey, ["distinct_id"] = distinctId };
        return PostAsync(FlagsUri, System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), cancellationToken);
    }

    public void Dispose() => http.Dispose();

    private async Task<HttpResponseMessage> PostAsync(Uri uri, byte[] body, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }
}
