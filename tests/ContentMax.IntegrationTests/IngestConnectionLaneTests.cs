using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// Ingestion answers a server's POST of metrics below Kestrel's HTTP layer, and
// hands anything it does not read strictly to Kestrel on the same connection.
// These speak HTTP/1.1 over one socket, as a client with keep-alive does, and
// check that every request on it gets its own answer, in order, whoever gives
// it, and that the accepted metrics are all stored once.
[Collection(AppHostCollection.Name)]
public class IngestConnectionLaneTests(AppHostFixture fixture)
{
    [Fact]
    public async Task PipelinedRequests_OnOneConnection_AreAnsweredInOrder_AcrossTheLaneAndKestrel()
    {
        var metric = MetricsApi.UniqueName();
        await using var connection = await RawConnection.OpenAsync(fixture);

        // Three in one write: two for the lane, then one it hands to Kestrel
        // (a header it does not read), which then serves the rest.
        await connection.SendAsync(
            Post(Metric(metric, 1)) + Post("{") + Post(Metric(metric, 2), extraHeaders: "Cookie: session=abc\r\n") + Post(Metric(metric, 3)));

        var answers = new[] { await connection.ReadAnswerAsync(), await connection.ReadAnswerAsync(), await connection.ReadAnswerAsync(), await connection.ReadAnswerAsync() };
        Assert.Equal([202, 400, 202, 202], answers.Select(a => a.Status));
        Assert.Equal("""{"accepted":1}""", answers[0].Body);
        Assert.Equal("application/problem+json", answers[1].Header("Content-Type"));
        Assert.Equal("The metrics are not valid.", JsonNode.Parse(answers[1].Body)!["title"]!.GetValue<string>());

        using var aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
        var stored = await aggregation.WaitForCountAsync(metric, 3);
        Assert.Equal(3, stored["count"]!.GetValue<long>());
        Assert.Equal(6, stored["sum"]!.GetValue<double>());
    }

    [Fact]
    public async Task ARequestArrivingInPieces_IsAnsweredWhenItIsAllIn()
    {
        var metric = MetricsApi.UniqueName();
        await using var connection = await RawConnection.OpenAsync(fixture);
        var request = Post(Metric(metric, 5));
        var headEnd = request.IndexOf("\r\n\r\n", StringComparison.Ordinal);

        await connection.SendAsync(request[..10]);
        await Task.Delay(100);
        await connection.SendAsync(request[10..headEnd]);
        await Task.Delay(100);
        await connection.SendAsync(request[headEnd..(headEnd + 12)]);
        await Task.Delay(100);
        await connection.SendAsync(request[(headEnd + 12)..]);

        var answer = await connection.ReadAnswerAsync();
        Assert.Equal(202, answer.Status);
        Assert.NotNull(answer.Header("Date"));

        // The connection stays open for the next request.
        await connection.SendAsync(Post(Metric(metric, 5)));
        Assert.Equal(202, (await connection.ReadAnswerAsync()).Status);
        using var aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
        Assert.Equal(2, (await aggregation.WaitForCountAsync(metric, 2))["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task TheKeysLimits_AreCountedOnce_AndTheirRefusalsKeepTheConnection()
    {
        var metric = MetricsApi.UniqueName();
        await using var connection = await RawConnection.OpenAsync(fixture);

        // Twice the throttled key's requests-per-second limit, in one write.
        var count = AppHostFixture.ThrottledRequestsPerSecond * 2;
        await connection.SendAsync(string.Concat(Enumerable.Range(0, count).Select(_ => Post(Metric(metric, 1), key: AppHostFixture.ThrottledKey))));
        var answers = new List<RawAnswer>();
        for (var i = 0; i < count; i++) answers.Add(await connection.ReadAnswerAsync());

        var accepted = answers.Count(a => a.Status == 202);
        Assert.InRange(accepted, 1, AppHostFixture.ThrottledRequestsPerSecond * 2 - 1);
        var refused = Assert.Single(answers.Where(a => a.Status != 202).Select(a => a.Status).Distinct());
        Assert.Equal(429, refused);
        var refusal = answers.First(a => a.Status == 429);
        Assert.True(int.Parse(refusal.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("application/problem+json", refusal.Header("Content-Type"));

        using var aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
        Assert.Equal(accepted, (await aggregation.WaitForCountAsync(metric, accepted))["count"]!.GetValue<long>());
    }

    private static string Metric(string name, double value) =>
        new JsonObject { ["metric"] = name, ["value"] = value }.ToJsonString();

    private static string Post(string body, string key = AppHostFixture.IngestKey, string extraHeaders = "") =>
        $"POST /api/metrics HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {key}\r\nContent-Type: application/json\r\n{extraHeaders}"
        + $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    private sealed record RawAnswer(int Status, Dictionary<string, string> Headers, string Body)
    {
        public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
    }

    // One TCP connection to ingestion; answers are read by their Content-Length
    // (or chunked framing, as Kestrel writes problems).
    private sealed class RawConnection : IAsyncDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly List<byte> _received = [];

        private RawConnection(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
        }

        public static async Task<RawConnection> OpenAsync(AppHostFixture fixture)
        {
            using var http = fixture.Client("ingestion", key: null);
            var client = new TcpClient();
            await client.ConnectAsync(http.BaseAddress!.Host, http.BaseAddress.Port);
            return new RawConnection(client);
        }

        public Task SendAsync(string text) => _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

        public async Task<RawAnswer> ReadAnswerAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var headEnd = await FillUntilAsync(() => IndexOf("\r\n\r\n"u8), timeout.Token);
            var head = Encoding.ASCII.GetString([.. _received.Take(headEnd)]).Split("\r\n");
            _received.RemoveRange(0, headEnd + 4);
            var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = head.Skip(1).Select(h => h.Split(':', 2)).ToDictionary(h => h[0].ToLowerInvariant(), h => h[1].Trim());
            string body;
            if (headers.TryGetValue("content-length", out var length))
            {
                var bytes = int.Parse(length, System.Globalization.CultureInfo.InvariantCulture);
                await FillUntilAsync(() => _received.Count >= bytes ? bytes : -1, timeout.Token);
                body = Encoding.UTF8.GetString([.. _received.Take(bytes)]);
                _received.RemoveRange(0, bytes);
            }
            else
            {
                var text = new StringBuilder();
                while (true)
                {
                    var lineEnd = await FillUntilAsync(() => IndexOf("\r\n"u8), timeout.Token);
                    var size = Convert.ToInt32(Encoding.ASCII.GetString([.. _received.Take(lineEnd)]), 16);
                    _received.RemoveRange(0, lineEnd + 2);
                    await FillUntilAsync(() => _received.Count >= size + 2 ? size : -1, timeout.Token);
                    text.Append(Encoding.UTF8.GetString([.. _received.Take(size)]));
                    _received.RemoveRange(0, size + 2);
                    if (size == 0) break;
                }

                body = text.ToString();
            }

            return new RawAnswer(status, headers, body);
        }

        private int IndexOf(ReadOnlySpan<byte> value) => _received.ToArray().AsSpan().IndexOf(value);

        private async Task<int> FillUntilAsync(Func<int> found, CancellationToken cancellationToken)
        {
            var buffer = new byte[4096];
            while (found() is var at && at < 0)
            {
                var read = await _stream.ReadAsync(buffer, cancellationToken);
                if (read == 0) throw new EndOfStreamException($"The connection closed; received so far: {Encoding.UTF8.GetString([.. _received])}");
                _received.AddRange(buffer.AsSpan(0, read));
            }

            return found();
        }

        public ValueTask DisposeAsync()
        {
            _client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
