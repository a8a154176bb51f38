using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ContentMax.IntegrationTests.Faults;

// A steady stream of metrics, as well-behaved clients send it: batches of 100
// from several concurrent senders, each batch retried with the SAME ids after a
// 503, a 429 or a transport failure until it gets its 202. Everything is
// counted, so a test can say what the clients saw while a fault happened.
public sealed class MetricStream
{
    public const int DefaultMetrics = 200_000;

    private readonly byte[][] _bodies;
    private readonly int _batchSize;
    private readonly ConcurrentQueue<string> _unexpected = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _accepted;
    private int _next = -1;
    private int _unavailable;
    private int _rateLimited;
    private int _serverErrors;
    private int _transportFailures;

    private MetricStream(string metric, int metrics, int batchSize)
    {
        Metric = metric;
        _batchSize = batchSize;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _bodies = Enumerable.Range(0, metrics / batchSize).Select(b =>
        {
            var json = new StringBuilder("[");
            for (var i = 0; i < batchSize; i++)
            {
                if (i > 0) json.Append(',');
                json.Append($$$"""{"id":"{{{Guid.NewGuid()}}}","metric":"{{{metric}}}","value":{{{b * batchSize + i}}},"timestamp":{{{now}}},"tags":{"stream":"fault"}}""");
            }

            return Encoding.UTF8.GetBytes(json.Append(']').ToString());
        }).ToArray();
    }

    public string Metric { get; }

    public int Total => _bodies.Length * _batchSize;

    public long Accepted => Interlocked.Read(ref _accepted);

    public int Unavailable => Volatile.Read(ref _unavailable);

    public int RateLimited => Volatile.Read(ref _rateLimited);

    // 5xx other than 503: never acceptable.
    public int ServerErrors => Volatile.Read(ref _serverErrors);

    public int TransportFailures => Volatile.Read(ref _transportFailures);

    public IReadOnlyCollection<string> Unexpected => _unexpected;

    public Task Completion { get; private set; } = Task.CompletedTask;

    public TimeSpan Elapsed { get; private set; }

    public static MetricStream Start(HttpClient ingestion, int metrics = DefaultMetrics, int batchSize = 100, int senders = 8, TimeSpan? timeout = null)
    {
        var stream = new MetricStream(MetricsApi.UniqueName("fault"), metrics, batchSize);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(4));
        stream.Completion = Task.WhenAll(Enumerable.Range(0, senders).Select(_ => Task.Run(() => stream.SendAsync(ingestion, deadline))))
            .ContinueWith(t =>
            {
                stream.Elapsed = stream._clock.Elapsed;
                return t;
            }, TaskScheduler.Default).Unwrap();
        return stream;
    }

    public Task WaitForAcceptedAsync(double fraction, TimeSpan timeout) =>
        Eventually.UntilAsync(() => Accepted, a => a >= Total * fraction || Completion.IsCompleted, timeout,
            a => $"only {a} of {Total} metrics accepted", TimeSpan.FromMilliseconds(20));

    public string Describe() =>
        $"{Metric}: {Accepted}/{Total} accepted in {Elapsed.TotalSeconds:0.0} s; 503: {Unavailable}, 429: {RateLimited}, other 5xx: {ServerErrors}, " +
        $"transport failures: {TransportFailures}, unexpected: {_unexpected.Count} {string.Join(" | ", _unexpected.Take(3))}";

    private async Task SendAsync(HttpClient ingestion, DateTime deadline)
    {
        while (Interlocked.Increment(ref _next) is var batch && batch < _bodies.Length)
        {
            while (true)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"batch {batch} was not accepted in time. {Describe()}");
                }

                var wait = TimeSpan.FromMilliseconds(250);
                try
                {
                    using var content = new ByteArrayContent(_bodies[batch]);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await ingestion.PostAsync("/api/metrics", content);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        Interlocked.Add(ref _accepted, _batchSize);
                        break;
                    }

                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.ServiceUnavailable:
                            Interlocked.Increment(ref _unavailable);
                            break;
                        case HttpStatusCode.TooManyRequests:
                            Interlocked.Increment(ref _rateLimited);
                            wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                            break;
                        case >= HttpStatusCode.InternalServerError:
                            Interlocked.Increment(ref _serverErrors);
                            _unexpected.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                            break;
                        default:
                            // A 4xx will not change on retry: the test fails on it.
                            _unexpected.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                            throw new InvalidOperationException($"batch {batch}: {(int)response.StatusCode}. {Describe()}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref _transportFailures);
                }

                await Task.Delay(wait);
            }
        }
    }
}
