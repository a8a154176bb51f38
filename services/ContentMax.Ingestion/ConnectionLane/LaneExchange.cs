using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.WebUtilities;

namespace ContentMax.Ingestion.ConnectionLane;

// One connection's requests as the endpoint's own code sees them: an
// HttpContext (not Kestrel's) whose request carries the head's content type,
// length and Accept and reads the body from the connection's buffer, and whose
// response is captured. Admission, the rate limits and the problems they
// answer with are the endpoint's code (MetricIngestionEndpoints.AdmitAsync),
// run on this context; the lane only writes the result to the connection.
// The context is reused while its requests are accepted, and replaced after
// any other answer, which may have set headers of its own.
internal sealed class LaneExchange(IServiceProvider services)
{
    private readonly SequenceStream _body = new();
    private readonly MemoryStream _response = new();
    private DefaultHttpContext? _context;

    public HttpContext Begin(in IngestRequestHead head, in ReadOnlySequence<byte> body, ApiKeyIdentity identity, CancellationToken aborted)
    {
        var context = _context ??= NewContext();
        context.User = identity.Principal;
        context.RequestAborted = aborted;
        var request = context.Request;
        request.ContentType = head.ContentType;
        request.ContentLength = head.ContentLength;
        if (head.Accept is null) request.Headers.Remove("Accept");
        else request.Headers.Accept = head.Accept;
        _body.Reset(body);
        return context;
    }

    // After an answer other than the 202.
    public void Discard() => _context = null;

    private DefaultHttpContext NewContext()
    {
        _response.SetLength(0);
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = HttpMethods.Post;
        context.Request.Scheme = "http";
        context.Request.Path = IngestConnectionLane.Path;
        context.Request.Protocol = "HTTP/1.1";
        context.Request.Body = _body;
        context.Response.Body = _response;
        return context;
    }

    // Writes the answer the context holds: its status, its headers and the body
    // written to it, with Content-Length and Date.
    public void WriteCaptured(PipeWriter output, HttpContext context, bool close)
    {
        var response = context.Response;
        WriteAscii(output, $"HTTP/1.1 {response.StatusCode} {ReasonPhrases.GetReasonPhrase(response.StatusCode)}\r\n");
        foreach (var (name, values) in response.Headers)
        {
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Date", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var value in values) WriteAscii(output, $"{name}: {value}\r\n");
        }

        if (close) output.Write("Connection: close\r\n"u8);
        WriteBody(output, _response.GetBuffer().AsSpan(0, (int)_response.Length));
    }

    // The 202 with its {"accepted":N} body, as IngestAcceptedResult writes it.
    public static void WriteAccepted(PipeWriter output, IngestAcceptedResult accepted)
    {
        output.Write("HTTP/1.1 202 Accepted\r\nContent-Type: application/json; charset=utf-8\r\n"u8);
        WriteBody(output, accepted.Body);
    }

    // The last headers, Content-Length and Date, then the body.
    private static void WriteBody(PipeWriter output, ReadOnlySpan<byte> body)
    {
        output.Write("Content-Length: "u8);
        WriteNumber(output, body.Length);
        output.Write("\r\nDate: "u8);
        HttpDate.Write(output);
        output.Write("\r\n\r\n"u8);
        output.Write(body);
    }

    private static void WriteNumber(PipeWriter output, long value)
    {
        Utf8Formatter.TryFormat(value, output.GetSpan(20), out var written);
        output.Advance(written);
    }

    private static void WriteAscii(PipeWriter output, string text)
    {
        var written = Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length));
        output.Advance(written);
    }

    // The Date header's value, formatted once a second.
    private static class HttpDate
    {
        private static (long Second, byte[] Bytes) _current = (-1, []);

        public static void Write(PipeWriter output)
        {
            var now = DateTime.UtcNow;
            var second = now.Ticks / TimeSpan.TicksPerSecond;
            var current = _current;
            if (current.Second != second)
            {
                var bytes = new byte[29];
                Utf8Formatter.TryFormat(now, bytes, out _, new StandardFormat('R'));
                current = (second, bytes);
                _current = current;
            }

            output.Write(current.Bytes);
        }
    }

    // A read-only stream over the request's body in the connection's buffer.
    private sealed class SequenceStream : Stream
    {
        private ReadOnlySequence<byte> _remaining;

        public void Reset(in ReadOnlySequence<byte> body) => _remaining = body;

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, _remaining.Length);
            _remaining.Slice(0, count).CopyTo(buffer);
            _remaining = _remaining.Slice(count);
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
