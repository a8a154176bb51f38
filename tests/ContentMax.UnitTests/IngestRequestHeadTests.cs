using System.Buffers;
using System.Text;
using ContentMax.Ingestion.ConnectionLane;

namespace ContentMax.UnitTests;

// Which requests the connection lane reads itself. It must never read a
// request differently from Kestrel: anything outside its narrow grammar is
// NotServed and goes to Kestrel untouched.
public class IngestRequestHeadTests
{
    private const string Body = """{"metric":"m","value":1}""";

    private static string Request(string headers, string body = Body, string requestLine = "POST /api/metrics HTTP/1.1") =>
        $"{requestLine}\r\n{headers}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    private const string Usual = "Host: localhost:5181\r\nX-Api-Key: ingest-1\r\nContent-Type: application/json\r\n";

    private static IngestRequestHead.Outcome Read(string text, out IngestRequestHead head, HeadStrings? strings = null, int maxBody = 64 * 1024) =>
        Read(Encoding.Latin1.GetBytes(text), out head, strings, maxBody);

    private static IngestRequestHead.Outcome Read(byte[] bytes, out IngestRequestHead head, HeadStrings? strings = null, int maxBody = 64 * 1024) =>
        IngestRequestHead.TryRead(new ReadOnlySequence<byte>(bytes), maxBody, strings ?? new HeadStrings(), out head);

    [Fact]
    public void AServersPost_IsServed_WithItsKeyTypeAndBodyPosition()
    {
        var text = Request(Usual + "Accept: application/json\r\nUser-Agent: app/1.0\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n"
            + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: k=v\r\n");

        Assert.Equal(IngestRequestHead.Outcome.Served, Read(text, out var head));
        Assert.Equal("ingest-1", head.Key);
        Assert.Equal("application/json", head.ContentType);
        Assert.Equal("application/json", head.Accept);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", head.TraceParent);
        Assert.Equal("k=v", head.TraceState);
        Assert.Equal(Body.Length, head.ContentLength);
        Assert.Equal(text.Length - Body.Length, head.HeadLength);
        Assert.Equal(text.Length, head.Length);
    }

    [Theory]
    [InlineData("POST /api/metrics/ HTTP/1.1")]
    public void TheRoutesTrailingSlash_IsServed(string requestLine) =>
        Assert.Equal(IngestRequestHead.Outcome.Served, Read(Request(Usual, requestLine: requestLine), out _));

    [Fact]
    public void HeaderNamesInAnyCase_AndValuesWithSurroundingSpace_AreServed()
    {
        Assert.Equal(IngestRequestHead.Outcome.Served, Read(Request("HOST: h\r\nx-api-key:\t ingest-1 \r\ncontent-type: text/plain;charset=UTF-8\r\n"), out var head));
        Assert.Equal("ingest-1", head.Key);
        // The endpoint's own admission judges the content type (415 for the unsupported).
        Assert.Equal("text/plain;charset=UTF-8", head.ContentType);
    }

    [Theory]
    [InlineData("GET /api/metrics HTTP/1.1")]
    [InlineData("POST /api/metrics?key=ingest-1 HTTP/1.1")]
    [InlineData("POST /api/metricsx HTTP/1.1")]
    [InlineData("POST /API/METRICS HTTP/1.1")]
    [InlineData("POST /api/metrics HTTP/1.0")]
    [InlineData("POST /api/metrics HTTP/2.0")]
    [InlineData("POST  /api/metrics HTTP/1.1")]
    [InlineData("POST http://h/api/metrics HTTP/1.1")]
    [InlineData("POST /v1/metrics HTTP/1.1")]
    public void AnyOtherRequestLine_IsKestrels(string requestLine) =>
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(Request(Usual, requestLine: requestLine), out _));

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\n")]
    [InlineData("Expect: 100-continue\r\n")]
    [InlineData("Origin: https://app.example\r\n")]
    [InlineData("Cookie: a=b\r\n")]
    [InlineData("Authorization: Bearer ingest-1\r\n")]
    [InlineData("Content-Encoding: gzip\r\n")]
    [InlineData("Connection: close\r\n")]
    [InlineData("Connection: Upgrade\r\n")]
    [InlineData("Upgrade: h2c\r\n")]
    [InlineData("X-Api-Key: ingest-2\r\n")]
    [InlineData("Host: other\r\n")]
    [InlineData("Content-Type: application/json\r\n")]
    [InlineData("Content-Length: 24\r\n")]
    [InlineData(" folded\r\n")]
    [InlineData("\tfolded\r\n")]
    [InlineData("X-Api-Key : ingest-1\r\n")]
    [InlineData("Bad Name: x\r\n")]
    [InlineData(": no name\r\n")]
    [InlineData("no colon\r\n")]
    [InlineData("User-Agent: a\nb\r\n")]
    [InlineData("User-Agent: a\rb\r\n")]
    [InlineData("User-Agent: a\0b\r\n")]
    [InlineData("User-Agent: caf\u00e9\r\n")]
    [InlineData("User-Agent: a\u007fb\r\n")]
    public void AnUnknownRepeatedOrUnusualHeader_IsKestrels(string extra) =>
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(Request(Usual + extra), out _));

    [Theory]
    [InlineData("Host: localhost\r\nContent-Type: application/json\r\n")]
    [InlineData("X-Api-Key: ingest-1\r\nContent-Type: application/json\r\n")]
    [InlineData("Host: localhost\r\nX-Api-Key: ingest-1\r\n")]
    [InlineData("Host: localhost\r\nX-Api-Key: \r\nContent-Type: application/json\r\n")]
    [InlineData("Host: \r\nX-Api-Key: ingest-1\r\nContent-Type: application/json\r\n")]
    [InlineData("Host: a/b\r\nX-Api-Key: ingest-1\r\nContent-Type: application/json\r\n")]
    public void AMissingHostKeyOrContentType_IsKestrels(string headers) =>
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(Request(headers), out _));

    [Theory]
    [InlineData("")]
    [InlineData("+24")]
    [InlineData("-1")]
    [InlineData("24, 24")]
    [InlineData("0x18")]
    [InlineData("1234567890")]
    public void AContentLengthThatIsNotPlainDigits_IsKestrels(string length)
    {
        var text = $"POST /api/metrics HTTP/1.1\r\n{Usual}Content-Length: {length}\r\n\r\n{Body}";
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(text, out _));
    }

    [Fact]
    public void NoContentLength_IsKestrels() =>
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read($"POST /api/metrics HTTP/1.1\r\n{Usual}\r\n{Body}", out _));

    [Fact]
    public void ABodyLargerThanTheLanesLimit_IsKestrels()
    {
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(Request(Usual), out _, maxBody: Body.Length - 1));
        Assert.Equal(IngestRequestHead.Outcome.Served, Read(Request(Usual), out _, maxBody: Body.Length));
    }

    [Fact]
    public void EveryPrefixOfARequest_IsIncomplete()
    {
        var bytes = Encoding.ASCII.GetBytes(Request(Usual));
        for (var length = 1; length < bytes.Length; length++)
        {
            Assert.Equal(IngestRequestHead.Outcome.Incomplete, Read(bytes[..length], out _));
        }
    }

    [Theory]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001")]
    [InlineData("PRI * HTTP/2.0\r\n")]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("POST /v")]
    public void AnotherProtocolOrRoute_IsKestrels_FromItsFirstBytes(string start) =>
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(start, out _));

    [Fact]
    public void AHeadLongerThanTheLimit_IsKestrels()
    {
        var longHead = $"POST /api/metrics HTTP/1.1\r\n{Usual}User-Agent: {new string('a', IngestRequestHead.MaxHeadBytes)}\r\n";
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(longHead, out _));
        Assert.Equal(IngestRequestHead.Outcome.NotServed, Read(Request(Usual + $"User-Agent: {new string('a', IngestRequestHead.MaxHeadBytes)}\r\n"), out _));
    }

    [Fact]
    public void ARequestSplitAcrossSegments_IsServed()
    {
        var bytes = Encoding.ASCII.GetBytes(Request(Usual));
        var sequence = Segments.Of(bytes, 7);

        Assert.Equal(IngestRequestHead.Outcome.Served, IngestRequestHead.TryRead(sequence, 64 * 1024, new HeadStrings(), out var head));
        Assert.Equal("ingest-1", head.Key);
        Assert.Equal(bytes.Length, head.Length);
    }

    [Fact]
    public void PipelinedRequests_AreReadOneAtATime()
    {
        var first = Request(Usual);
        Assert.Equal(IngestRequestHead.Outcome.Served, Read(first + Request(Usual, body: "[]"), out var head));
        Assert.Equal(first.Length, head.Length);
    }

    [Fact]
    public void AConnectionsRepeatedValues_AreTheSameStrings()
    {
        var strings = new HeadStrings();
        Read(Request(Usual), out var first, strings);
        Read(Request(Usual), out var second, strings);
        Read(Request(Usual.Replace("ingest-1", "ingest-2", StringComparison.Ordinal)), out var third, strings);

        Assert.Same(first.Key, second.Key);
        Assert.Same(first.ContentType, second.ContentType);
        Assert.Equal("ingest-2", third.Key);
    }

    // A sequence of segments of `size` bytes, as a pipe hands over a request
    // that arrived in several reads.
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(byte[] bytes, int size)
        {
            var first = new Segments(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
            var last = first;
            for (var offset = size; offset < bytes.Length; offset += size)
            {
                var next = new Segments(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
