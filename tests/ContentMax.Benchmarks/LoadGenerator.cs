using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace ContentMax.Benchmarks;

// Closed-loop HTTP load: N workers, each on its own keep-alive connection,
// posting as fast as answers come back, for a fixed time. Records every
// request's latency.
//
// It speaks HTTP/1.1 over raw sockets with every request pre-built: HttpClient
// costs ~35 µs of CPU a request, which on two cores would measure the load
// generator as much as the service. This costs a few µs.
public sealed class LoadGenerator(Uri ingestion, int workers, byte[][] bodies, int metricsPerPost, string path = "/api/metrics")
{
    public sealed record Result(long AcceptedMetrics, long Rejected, long Requests, TimeSpan Elapsed, double[] LatenciesMs, string? FirstRejection);

    private long _accepted;
    private string? _firstRejection;

    public long AcceptedSoFar => Interlocked.Read(ref _accepted);

    public async Task<Result> RunAsync(TimeSpan duration, Func<bool>? stopEarly = null)
    {
        long rejected = 0, requests = 0;
        var latencies = new List<double>[workers];
        // Every body's request is built now: workers then only read them.
        var prepared = bodies.Select(Request).ToArray();
        var stopwatch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            using var connection = await Connection.OpenAsync(ingestion);
            var i = w;
            while (stopwatch.Elapsed < duration && stopEarly?.Invoke() != true)
            {
                var request = prepared[i++ % prepared.Length];
                var started = Stopwatch.GetTimestamp();
                var (status, retryAfter, rejection) = await connection.SendAsync(request);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref requests);
                if (status == 202)
                {
                    Interlocked.Add(ref _accepted, metricsPerPost);
                }
                else
                {
                    Interlocked.Increment(ref rejected);
                    Interlocked.CompareExchange(ref _firstRejection, $"{status}: {rejection}", null);
                    await Task.Delay(retryAfter ?? TimeSpan.FromMilliseconds(100));
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        return new Result(AcceptedSoFar, rejected, requests, stopwatch.Elapsed, latencies.SelectMany(l => l).Order().ToArray(), _firstRejection);
    }

    private byte[] Request(byte[] content)
    {
        var head = Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {ingestion.Authority}\r\nX-Api-Key: {BenchmarkSystem.IngestKey}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {content.Length}\r\n\r\n");
        var request = new byte[head.Length + content.Length];
        head.CopyTo(request, 0);
        content.CopyTo(request, head.Length);
        return request;
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    // Pre-built request bodies of random metrics spread over the last `spread`.
    // The server generates the ids, so re-sending a body stores new rows.
    public static byte[][] Bodies(int count, int metricsPerBody, TimeSpan spread, int seed)
    {
        var random = new Random(seed);
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(_ =>
        {
            var json = new StringBuilder(metricsPerBody * 80);
            json.Append(metricsPerBody == 1 ? "" : "[");
            for (var m = 0; m < metricsPerBody; m++)
            {
                if (m > 0) json.Append(',');
                var name = MetricNames.All[random.Next(MetricNames.All.Length)];
                var ts = (now - TimeSpan.FromMilliseconds(random.NextDouble() * spread.TotalMilliseconds)).ToUnixTimeMilliseconds();
                json.Append(System.Globalization.CultureInfo.InvariantCulture, $$$"""{"metric":"{{{name}}}","value":{{{Value(random)}}},"timestamp":{{{ts}}},"tags":{"env":"bench"}}""");
            }

            json.Append(metricsPerBody == 1 ? "" : "]");
            return Encoding.UTF8.GetBytes(json.ToString());
        }).ToArray();
    }

    // Log-normal values, like latencies.
    public static double Value(Random random) =>
        Math.Round(Math.Exp(4 + 1.5 * (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5)), 3);

    // One keep-alive HTTP/1.1 connection: sends a request and reads the
    // response's status, Retry-After and body (by Content-Length).
    private sealed class Connection(Socket socket) : IDisposable
    {
        private readonly byte[] _buffer = new byte[64 * 1024];

        public static async Task<Connection> OpenAsync(Uri uri)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(uri.Host == "localhost" ? "127.0.0.1" : uri.Host, uri.Port);
            return new Connection(socket);
        }

        // The status, Retry-After and, for anything but 202, the body.
        public async Task<(int Status, TimeSpan? RetryAfter, string? Body)> SendAsync(byte[] request)
        {
            await socket.SendAsync(request);
            var filled = 0;
            int headerEnd;
            while ((headerEnd = _buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                filled += await ReceiveAsync(filled);
            }

            var (status, length, chunked, retryAfter) = ReadHead(_buffer.AsSpan(0, headerEnd));
            var bodyStart = headerEnd + 4;
            if (chunked)
            {
                // Small bodies only: read until the last chunk ends.
                while (!_buffer.AsSpan(bodyStart, filled - bodyStart).EndsWith("0\r\n\r\n"u8))
                {
                    filled += await ReceiveAsync(filled);
                }
            }
            else
            {
                while (filled < bodyStart + length)
                {
                    filled += await ReceiveAsync(filled);
                }
            }

            var body = status == 202 ? null : Encoding.UTF8.GetString(_buffer, bodyStart, filled - bodyStart);
            return (status, retryAfter is { } seconds ? TimeSpan.FromSeconds(seconds) : null, body);
        }

        private async Task<int> ReceiveAsync(int filled)
        {
            var read = await socket.ReceiveAsync(_buffer.AsMemory(filled));
            return read > 0 ? read : throw new IOException("The server closed the connection.");
        }

        private static (int Status, int Length, bool Chunked, int? RetryAfter) ReadHead(ReadOnlySpan<byte> head)
        {
            Utf8Parser.TryParse(head[9..12], out int status, out _);
            Span<byte> lower = stackalloc byte[head.Length];
            for (var i = 0; i < head.Length; i++) lower[i] = (byte)(head[i] is >= (byte)'A' and <= (byte)'Z' ? head[i] + 32 : head[i]);
            return (status, HeaderNumber(lower, "\r\ncontent-length:"u8) ?? 0, lower.IndexOf("\r\ntransfer-encoding: chunked"u8) >= 0,
                HeaderNumber(lower, "\r\nretry-after:"u8));
        }

        private static int? HeaderNumber(ReadOnlySpan<byte> lower, ReadOnlySpan<byte> name)
        {
            var at = lower.IndexOf(name);
            if (at < 0) return null;
            var value = lower[(at + name.Length)..].TrimStart((byte)' ');
            return Utf8Parser.TryParse(value, out int number, out _) ? number : null;
        }

        public void Dispose() => socket.Dispose();
    }
}
