using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace ContentMax.Ingestion.ConnectionLane;

// The head of a request the connection lane serves: a server's POST of metrics
// over HTTP/1.1 with its key in X-Api-Key. The grammar is deliberately
// narrower than HTTP's: exactly the request line, a known set of headers each
// at most once, every value plain ASCII, the body's length given. Anything
// else, even when valid HTTP, is NotServed and goes to Kestrel untouched, so
// every ambiguous or unusual request (chunked bodies, Expect, folded or
// repeated headers, control bytes, Connection: close, other routes and
// protocols) is answered by the framework's parser exactly as before; the lane
// never reads a request differently from it.
internal readonly record struct IngestRequestHead(
    string Key,
    string ContentType,
    string? Accept,
    string? TraceParent,
    string? TraceState,
    int HeadLength,
    int ContentLength)
{
    public const int MaxHeadBytes = 8 * 1024;

    public long Length => (long)HeadLength + ContentLength;

    private static ReadOnlySpan<byte> Method => "POST /api/metrics"u8;

    public enum Outcome
    {
        // Not all of the head or body has arrived yet.
        Incomplete,

        // The whole request is in the buffer and the lane serves it.
        Served,

        // Kestrel serves it (and the rest of the connection).
        NotServed,
    }

    // Reads the request at the start of `buffer`. Served needs the whole body
    // in the buffer too: the lane answers only complete requests, so a client
    // that sends a large body slowly is Kestrel's, with its data-rate limits.
    public static Outcome TryRead(in ReadOnlySequence<byte> buffer, int maxBody, HeadStrings strings, out IngestRequestHead head)
    {
        head = default;

        // A first packet that is not this route (TLS, HTTP/2's preface, any
        // other request) is handed on before waiting for a whole line.
        var start = buffer.FirstSpan;
        var prefix = Math.Min(start.Length, Method.Length);
        if (!start[..prefix].SequenceEqual(Method[..prefix])) return Outcome.NotServed;

        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySpan<byte> requestLine, "\r\n"u8)) return Pending(buffer);
        if (!requestLine.SequenceEqual("POST /api/metrics HTTP/1.1"u8) && !requestLine.SequenceEqual("POST /api/metrics/ HTTP/1.1"u8)) return Outcome.NotServed;

        var seen = Seen.None;
        string? key = null, contentType = null, accept = null, traceParent = null, traceState = null;
        var contentLength = -1;
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySpan<byte> line, "\r\n"u8)) return Pending(buffer);
            if (reader.Consumed > MaxHeadBytes) return Outcome.NotServed;
            if (line.IsEmpty) break;

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon])) return Outcome.NotServed;
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (!IsPlainValue(value)) return Outcome.NotServed;

            var header = Classify(line[..colon]);
            if (header == Seen.None || (seen & header) != 0) return Outcome.NotServed;
            seen |= header;
            switch (header)
            {
                case Seen.Host:
                    if (!IsHost(value)) return Outcome.NotServed;
                    break;
                case Seen.ContentLength:
                    if (value.IsEmpty || value.Length > 9 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
                        || !Utf8Parser.TryParse(value, out contentLength, out _)) return Outcome.NotServed;
                    break;
                case Seen.ContentType:
                    contentType = strings.ContentType.Get(value);
                    break;
                case Seen.ApiKey:
                    if (value.IsEmpty) return Outcome.NotServed;
                    key = strings.Key.Get(value);
                    break;
                case Seen.Accept:
                    accept = strings.Accept.Get(value);
                    break;
                case Seen.TraceParent:
                    traceParent = Encoding.ASCII.GetString(value);
                    break;
                case Seen.TraceState:
                    traceState = Encoding.ASCII.GetString(value);
                    break;
                case Seen.Connection:
                    if (!Ascii.EqualsIgnoreCase(value, "keep-alive"u8)) return Outcome.NotServed;
                    break;
            }
        }

        if ((seen & Seen.Required) != Seen.Required || contentLength > maxBody) return Outcome.NotServed;
        var headLength = (int)reader.Consumed;
        if (reader.Remaining < contentLength) return Outcome.Incomplete;

        head = new IngestRequestHead(key!, contentType!, accept, traceParent, traceState, headLength, contentLength);
        return Outcome.Served;
    }

    private static Outcome Pending(in ReadOnlySequence<byte> buffer) =>
        buffer.Length > MaxHeadBytes ? Outcome.NotServed : Outcome.Incomplete;

    [Flags]
    private enum Seen
    {
        None = 0,
        Host = 1,
        ContentLength = 2,
        ContentType = 4,
        ApiKey = 8,
        Accept = 16,
        TraceParent = 32,
        TraceState = 64,
        Connection = 128,
        UserAgent = 256,
        AcceptEncoding = 512,
        Required = Host | ContentLength | ContentType | ApiKey,
    }

    private static Seen Classify(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "host"u8) ? Seen.Host
        : Ascii.EqualsIgnoreCase(name, "content-length"u8) ? Seen.ContentLength
        : Ascii.EqualsIgnoreCase(name, "content-type"u8) ? Seen.ContentType
        : Ascii.EqualsIgnoreCase(name, "x-api-key"u8) ? Seen.ApiKey
        : Ascii.EqualsIgnoreCase(name, "accept"u8) ? Seen.Accept
        : Ascii.EqualsIgnoreCase(name, "traceparent"u8) ? Seen.TraceParent
        : Ascii.EqualsIgnoreCase(name, "tracestate"u8) ? Seen.TraceState
        : Ascii.EqualsIgnoreCase(name, "connection"u8) ? Seen.Connection
        : Ascii.EqualsIgnoreCase(name, "user-agent"u8) ? Seen.UserAgent
        : Ascii.EqualsIgnoreCase(name, "accept-encoding"u8) ? Seen.AcceptEncoding
        : Seen.None;

    // RFC 9110 token characters.
    private static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static readonly SearchValues<byte> HostBytes =
        SearchValues.Create("-.:[]0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static bool IsToken(ReadOnlySpan<byte> name) => name.IndexOfAnyExcept(TokenBytes) < 0;

    // Visible ASCII, spaces and tabs: no control bytes (a bare CR or LF), no
    // bytes above 0x7E, which Kestrel judges by its own settings.
    private static bool IsPlainValue(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if ((b < 0x20 && b != (byte)'\t') || b > 0x7E) return false;
        }

        return true;
    }

    private static bool IsHost(ReadOnlySpan<byte> value) => !value.IsEmpty && value.IndexOfAnyExcept(HostBytes) < 0;
}

// Strings from header values, kept per connection: a client sends the same
// key, content type and Accept on every request, so after its first request
// none of them allocates.
internal sealed class HeadStrings
{
    public CachedString Key { get; } = new();

    public CachedString ContentType { get; } = new();

    public CachedString Accept { get; } = new();

    internal sealed class CachedString
    {
        private byte[] _bytes = [];
        private string _text = "";

        public string Get(ReadOnlySpan<byte> value)
        {
            if (!value.SequenceEqual(_bytes))
            {
                _bytes = value.ToArray();
                _text = Encoding.ASCII.GetString(value);
            }

            return _text;
        }
    }
}
