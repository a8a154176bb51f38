using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// A local stand-in for Sentry's ingestion API: accepts what the real SDKs send
// to POST /api/{project}/envelope/ (authenticated by the DSN's public key in
// X-Sentry-Auth or, from browsers, the sentry_key query parameter; gzip,
// deflate or brotli per Content-Encoding; CORS for the dashboard's browser) and
// records each envelope's raw, decompressed bytes, parsed into its header and
// items (event, transaction, session, replay_event, replay_recording, ...).
public sealed class FakeSentryServer : IAsyncDisposable
{
    public const string PublicKey = "fakesentrypublickey";
    public const string ProjectId = "1";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SentryEnvelope> _envelopes = new();
    private readonly ConcurrentQueue<JsonObject> _securityReports = new();
    private int _rejected;

    private FakeSentryServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    // http://PUBLICKEY@127.0.0.1:PORT/1 → the SDK posts to /api/1/envelope/.
    public string Dsn => BaseUrl.Replace("http://", $"http://{PublicKey}@", StringComparison.Ordinal) + "/" + ProjectId;

    public IReadOnlyList<SentryEnvelope> Envelopes => [.. _envelopes];

    // Browser security reports (CSP violations) posted to /api/{project}/security/,
    // with the query the page's report-uri carried.
    public IReadOnlyList<JsonObject> SecurityReports => [.. _securityReports];

    // Requests without the DSN's key (there should be none).
    public int Rejected => Volatile.Read(ref _rejected);

    public static async Task<FakeSentryServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeSentryServer(app);
        app.UseBrowserCors();

        app.MapPost("/api/{project}/envelope", async (HttpContext context, string project) =>
        {
            var auth = context.Request.Headers["X-Sentry-Auth"].ToString();
            if (!auth.Contains($"sentry_key={PublicKey}", StringComparison.Ordinal) && context.Request.Query["sentry_key"] != PublicKey)
            {
                Interlocked.Increment(ref server._rejected);
                return Results.Unauthorized();
            }

            var raw = await HttpBodies.ReadDecompressedAsync(context.Request);
            var envelope = SentryEnvelope.Parse(project, raw);
            server._envelopes.Enqueue(envelope);
            return Results.Json(new { id = envelope.Header["event_id"]?.GetValue<string>() });
        });

        app.MapPost("/api/{project}/security", async (HttpContext context, string project) =>
        {
            if (context.Request.Query["sentry_key"] != PublicKey)
            {
                Interlocked.Increment(ref server._rejected);
                return Results.Unauthorized();
            }

            var report = JsonNode.Parse(await HttpBodies.ReadDecompressedAsync(context.Request))!.AsObject();
            report["query"] = context.Request.QueryString.Value;
            server._securityReports.Enqueue(report);
            return Results.Ok();
        });

        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/');
        return server;
    }

    // Items of one type (event, transaction, client_report, ...) across every envelope so far.
    public IEnumerable<SentryEnvelopeItem> Items(string type) =>
        Envelopes.SelectMany(e => e.Items).Where(i => i.Type == type);

    public async Task<SentryEnvelopeItem> WaitForItemAsync(string type, Func<SentryEnvelopeItem, bool> match, TimeSpan? timeout = null) =>
        (await Eventually.UntilAsync(() => Items(type).FirstOrDefault(match), item => item is not null, timeout ?? TimeSpan.FromSeconds(30),
            _ => $"No '{type}' item matched within the timeout; {Envelopes.Count} envelope(s) arrived."))!;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

// An envelope: a JSON header line, then items, each a JSON header line and a
// payload (of the header's "length" in bytes, or up to the next newline).
public sealed record SentryEnvelope(string Project, byte[] Raw, JsonObject Header, IReadOnlyList<SentryEnvelopeItem> Items)
{
    public string Text => Encoding.UTF8.GetString(Raw);

    public static SentryEnvelope Parse(string project, byte[] raw)
    {
        var position = 0;
        var header = JsonNode.Parse(ReadLine(raw, ref position))!.AsObject();
        var items = new List<SentryEnvelopeItem>();
        while (position < raw.Length)
        {
            var line = ReadLine(raw, ref position);
            if (line.Length == 0)
            {
                continue;
            }

            var itemHeader = JsonNode.Parse(line)!.AsObject();
            byte[] payload;
            if (itemHeader["length"] is JsonValue length && length.TryGetValue<int>(out var size))
            {
                payload = raw[position..(position + size)];
                position += size;
                if (position < raw.Length && raw[position] == (byte)'\n')
                {
                    position++;
                }
            }
            else
            {
                payload = ReadLine(raw, ref position);
            }

            items.Add(new SentryEnvelopeItem(itemHeader, payload));
        }

        return new SentryEnvelope(project, raw, header, items);
    }

    private static byte[] ReadLine(byte[] raw, ref int position)
    {
        var end = Array.IndexOf(raw, (byte)'\n', position);
        if (end < 0)
        {
            end = raw.Length;
        }

        var line = raw[position..end];
        position = Math.Min(end + 1, raw.Length);
        return line;
    }
}

public sealed record SentryEnvelopeItem(JsonObject Header, byte[] Payload)
{
    public string Type => Header["type"]?.GetValue<string>() ?? "";
    public string Text => Encoding.UTF8.GetString(Payload);
    public JsonObject Json => JsonNode.Parse(Payload)!.AsObject();

    // A replay_recording payload is a JSON header line ({"segment_id":N}) and
    // the rrweb events: a JSON array, zlib-compressed when the SDK's compression
    // worker ran (it needs worker-src blob: in the page's CSP).
    public bool RecordingCompressed => RecordingBody is [0x78, ..];

    public string RecordingText => RecordingCompressed
        ? Encoding.UTF8.GetString(HttpBodies.Decompress(new ZLibStream(new MemoryStream(RecordingBody), CompressionMode.Decompress)))
        : Encoding.UTF8.GetString(RecordingBody);

    private byte[] RecordingBody
    {
        get
        {
            var newline = Array.IndexOf(Payload, (byte)'\n');
            return newline < 0 ? Payload : Payload[(newline + 1)..];
        }
    }
}

internal static class HttpBodies
{
    // What the SDKs send: plain, or compressed as Content-Encoding says.
    public static async Task<byte[]> ReadDecompressedAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        return encoding switch
        {
            "" or "identity" => body,
            "gzip" => Decompress(new GZipStream(new MemoryStream(body), CompressionMode.Decompress)),
            "br" => Decompress(new BrotliStream(new MemoryStream(body), CompressionMode.Decompress)),
            "deflate" => Inflate(body),
            _ => throw new InvalidOperationException($"Unexpected Content-Encoding '{encoding}'."),
        };
    }

    // HTTP "deflate" is zlib-wrapped, but some clients send raw deflate.
    private static byte[] Inflate(byte[] body)
    {
        try
        {
            return Decompress(new ZLibStream(new MemoryStream(body), CompressionMode.Decompress));
        }
        catch (InvalidDataException)
        {
            return Decompress(new DeflateStream(new MemoryStream(body), CompressionMode.Decompress));
        }
    }

    public static byte[] Decompress(Stream stream)
    {
        using (stream)
        {
            using var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray();
        }
    }
}
