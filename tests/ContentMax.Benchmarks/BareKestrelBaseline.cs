using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.Benchmarks;

// The floor for one HTTP request on this machine: a process of its own running
// Kestrel with nothing but a minimal-API POST /api/metrics that reads the body
// and answers ingestion's 202 {"accepted":1} (and a GET /api/health with a
// fixed answer, the health benchmark's floor). No authentication, telemetry,
// validation or broker. Offered the same single-metric requests by the same
// load generator, its CPU per request is what ingestion's is compared with:
// the machine's speed of the day (system calls, wake-ups, loopback TCP) moves
// both alike, so the ratio is what the code decides.
//
// Two floors below Kestrel's HTTP layer show what a server of our own for the
// ingest route could save at most: a connection handler on Kestrel's socket
// transport that parses HTTP/1.1 itself (no HttpContext, hosting or
// routing), and a loop on a bare socket (no pipes either). Each answers the
// same fixed 202 as soon as a request is in.
public static class BareKestrelBaseline
{
    public const string ServerArgument = "--bare-kestrel";

    public enum Mode
    {
        // The minimal-API POST.
        Kestrel,

        // The same, but each request waits, as ingestion's wait for the broker's
        // confirm, until a loop completes everything queued every 2 ms.
        Deferred,

        // Kestrel's transport, HTTP/1.1 parsed by a connection handler.
        Connection,

        // A socket per connection, HTTP/1.1 parsed from its buffer.
        Socket,
    }

    // Runs the bare server in this process until it is killed, and writes the
    // address it listens on as the first line of standard output. The benchmark
    // starts it as a child process, so that its CPU is not counted with the load's.
    public static async Task ServeAsync(Mode mode)
    {
        if (mode == Mode.Socket)
        {
            await ServeSocketsAsync();
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (mode == Mode.Connection) listen.Use(_ => ServeConnectionAsync);
        }));
        var app = builder.Build();
        var accepted = "{\"accepted\":1}"u8.ToArray();
        var waiting = mode == Mode.Deferred ? new ConcurrentQueue<TaskCompletionSource>() : null;
        if (waiting is not null)
        {
            _ = Task.Run(async () =>
            {
                using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(2));
                while (await tick.WaitForNextTickAsync())
                {
                    while (waiting.TryDequeue(out var next)) next.TrySetResult();
                }
            });
        }

        app.MapPost("/api/metrics", async (HttpRequest request) =>
        {
            var buffer = new byte[(int)(request.ContentLength ?? 4096)];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length))) > 0) length += read;
            if (waiting is not null)
            {
                var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                waiting.Enqueue(completion);
                await completion.Task;
            }

            var response = request.HttpContext.Response;
            response.StatusCode = StatusCodes.Status202Accepted;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = accepted.Length;
            await response.Body.WriteAsync(accepted);
        });
        // The health benchmark's floor: a fixed answer of about the size of
        // health-probe's, with nothing behind it.
        var health = System.Text.Encoding.UTF8.GetBytes(
            """{"status":"healthy","groups":{"api":"healthy","database":"healthy","cache":"healthy","messaging":"healthy","services":"healthy","external":"healthy"},"timestamp":"2026-01-01T00:00:00+00:00","uptimeSeconds":1.0,"version":"bare"}""");
        app.MapGet("/api/health", (HttpContext context) =>
        {
            var response = context.Response;
            response.ContentType = "application/json; charset=utf-8";
            response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
            response.ContentLength = health.Length;
            return response.Body.WriteAsync(health).AsTask();
        });
        await app.StartAsync();
        Console.WriteLine(app.Urls.First());
        await app.WaitForShutdownAsync();
    }

    // Kestrel's 202 (its headers, a fixed date), as the floors below its HTTP layer send it.
    private static readonly byte[] Accepted = System.Text.Encoding.ASCII.GetBytes(
        "HTTP/1.1 202 Accepted\r\nContent-Length: 14\r\nContent-Type: application/json; charset=utf-8\r\n" +
        "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\nServer: Kestrel\r\n\r\n{\"accepted\":1}");

    private static async Task ServeConnectionAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var read = await input.ReadAsync();
            var buffer = read.Buffer;
            var answered = false;
            while (TryReadRequest(buffer, out var length))
            {
                buffer = buffer.Slice(length);
                output.Write(Accepted);
                answered = true;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (answered) await output.FlushAsync();
            if (read.IsCompleted) return;
        }
    }

    private static async Task ServeSocketsAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1024);
        Console.WriteLine($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        while (true)
        {
            var socket = await listener.AcceptAsync();
            socket.NoDelay = true;
            _ = Task.Run(() => ServeSocketAsync(socket));
        }
    }

    private static async Task ServeSocketAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[16 * 1024];
            var filled = 0;
            int received;
            while ((received = await socket.ReceiveAsync(buffer.AsMemory(filled))) > 0)
            {
                filled += received;
                var consumed = 0;
                while (TryReadRequest(new ReadOnlySequence<byte>(buffer, consumed, filled - consumed), out var length))
                {
                    consumed += (int)length;
                    await socket.SendAsync(Accepted);
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
    }

    // A whole request's length once all of it is in: the request line, each
    // header line (Content-Length read), the body.
    private static bool TryReadRequest(ReadOnlySequence<byte> sequence, out long length)
    {
        length = 0;
        var reader = new SequenceReader<byte>(sequence);
        if (!reader.TryReadTo(out ReadOnlySpan<byte> requestLine, "\r\n"u8)) return false;
        if (!requestLine.StartsWith("POST /api/metrics HTTP/1.1"u8)) throw new InvalidDataException("Only the load generator's POST is served.");
        long contentLength = 0;
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySpan<byte> header, "\r\n"u8)) return false;
            if (header.IsEmpty) break;
            var colon = header.IndexOf((byte)':');
            if (System.Text.Ascii.EqualsIgnoreCase(header[..colon], "content-length"u8))
            {
                Utf8Parser.TryParse(header[(colon + 1)..].Trim((byte)' '), out contentLength, out _);
            }
        }

        if (reader.Remaining < contentLength) return false;
        length = reader.Consumed + contentLength;
        return true;
    }

    public sealed record Result(double MicrosPerRequest, double RequestsPerSecond);

    // Starts the bare server, warms it up, and measures its CPU per request
    // under `workers` connections posting `bodies` for `duration`.
    public static async Task<Result> MeasureAsync(byte[][] bodies, int workers, TimeSpan duration, Mode mode = Mode.Kestrel)
    {
        await using var server = await Server.StartAsync(mode);
        await new LoadGenerator(server.Endpoint, workers, bodies, 1).RunAsync(TimeSpan.FromSeconds(5));
        var cpuBefore = BenchmarkSystem.CpuSeconds(server.ProcessId, withDescendants: false);
        var result = await new LoadGenerator(server.Endpoint, workers, bodies, 1).RunAsync(duration);
        var cpu = BenchmarkSystem.CpuSeconds(server.ProcessId, withDescendants: false) - cpuBefore;
        return new Result(cpu / result.Requests * 1e6, result.Requests / result.Elapsed.TotalSeconds);
    }

    // The bare server as a child process, killed when disposed.
    public sealed class Server : IAsyncDisposable
    {
        private readonly Process _process;

        private Server(Process process, Uri endpoint) => (_process, Endpoint) = (process, endpoint);

        public Uri Endpoint { get; }

        public int ProcessId => _process.Id;

        public static async Task<Server> StartAsync(Mode mode = Mode.Kestrel)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            if (!Environment.ProcessPath!.EndsWith("/ContentMax.Benchmarks", StringComparison.Ordinal))
            {
                // Started as `dotnet ContentMax.Benchmarks.dll`.
                start.ArgumentList.Add(typeof(BareKestrelBaseline).Assembly.Location);
            }

            start.ArgumentList.Add(ServerArgument);
            start.ArgumentList.Add(mode.ToString());
            var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the bare Kestrel server.");
            try
            {
                var address = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
                    ?? throw new InvalidOperationException("The bare Kestrel server exited: " + await process.StandardError.ReadToEndAsync());
                return new Server(process, new Uri(address));
            }
            catch
            {
                process.Kill();
                process.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
