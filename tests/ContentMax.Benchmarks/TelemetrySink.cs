using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.Benchmarks;

// Where the services send their OpenTelemetry traces, metrics and logs during
// the benchmark: an OTLP/HTTP endpoint that takes everything and keeps
// nothing, standing in for a collector. Without it the exporters would aim at
// the Aspire dashboard, which the testing host does not start, and spend the
// run failing and retrying.
public sealed class TelemetrySink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TelemetrySink(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long[]> Received = new();

    // Requests and bytes received per signal (traces, metrics, logs) so far.
    public static Dictionary<string, (long Requests, long Bytes)> Totals() =>
        Received.ToDictionary(kv => kv.Key, kv => (Interlocked.Read(ref kv.Value[0]), Interlocked.Read(ref kv.Value[1])));

    public static async Task<TelemetrySink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/{signal}", async (HttpRequest request, string signal) =>
        {
            var counting = new CountingStream();
            await request.Body.CopyToAsync(counting);
            var totals = Received.GetOrAdd(signal, _ => new long[2]);
            Interlocked.Increment(ref totals[0]);
            Interlocked.Add(ref totals[1], counting.Length);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return new TelemetrySink(app, app.Urls.First());
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

internal sealed class CountingStream : Stream
{
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => _length += count;
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _length += buffer.Length;
        return ValueTask.CompletedTask;
    }
}
