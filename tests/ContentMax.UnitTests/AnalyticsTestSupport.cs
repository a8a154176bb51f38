using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json.Nodes;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Logging.Abstractions;

namespace ContentMax.UnitTests;

// An HttpMessageHandler that records every request body and answers from a
// script, so the PostHog client's logic is tested without a network.
internal sealed class RecordingHandler(Func<int, HttpRequestMessage, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    private readonly List<(Uri Uri, string Body)> _requests = [];
    private int _calls;

    public RecordingHandler(params HttpStatusCode[] statuses)
        : this((call, _) => Task.FromResult(new HttpResponseMessage(call < statuses.Length ? statuses[call] : HttpStatusCode.OK)))
    {
    }

    public IReadOnlyList<(Uri Uri, string Body)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public IReadOnlyList<JsonObject> Bodies => [.. Requests.Select(r => JsonNode.Parse(r.Body)!.AsObject())];

    public IReadOnlyList<JsonObject> Events => [.. Bodies.Where(b => b["batch"] is JsonArray).SelectMany(b => b["batch"]!.AsArray().Select(e => e!.AsObject()))];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (_requests)
        {
            _requests.Add((request.RequestUri!, body));
        }

        // Like a real handler, give up when the caller cancels.
        return await respond(Interlocked.Increment(ref _calls) - 1, request).WaitAsync(cancellationToken);
    }

    public async Task WaitForAsync(Func<RecordingHandler, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met; {Requests.Count} request(s) recorded.");
            }

            await Task.Delay(20);
        }
    }
}

internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public bool Created(Meter meter)
    {
        lock (_meters)
        {
            return _meters.Contains(meter);
        }
    }

    public void Dispose() => _meters.ForEach(m => m.Dispose());
}

// A PostHog client over a RecordingHandler, with fast timings.
internal sealed class AnalyticsHarness : IAsyncDisposable
{
    public AnalyticsHarness(RecordingHandler handler, Action<PostHogOptions>? configure = null, bool start = true)
    {
        Handler = handler;
        Options = new PostHogOptions
        {
            ProjectApiKey = "phc_test",
            Host = "http://posthog.test",
            FlushAt = 1,
            FlushInterval = TimeSpan.FromMilliseconds(100),
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(50),
            RequestTimeout = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(Options);
        Api = new PostHogApi(new HttpClient(handler), Options);
        Metrics = new PostHogMetrics(MeterFactory);
        Batcher = new PostHogBatcher(Options, Api, Metrics, NullLogger<PostHogBatcher>.Instance, TimeProvider.System);
        Flags = new PostHogFeatureFlags(Options, Api, NullLogger<PostHogFeatureFlags>.Instance, TimeProvider.System);
        Analytics = new ProductAnalytics(Options, Batcher, Flags, Metrics, Identity, TimeProvider.System, NullLogger<ProductAnalytics>.Instance);
        if (start)
        {
            Batcher.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    public static ServiceIdentity Identity { get; } = new("ingestion", "0.1.0+abc123", "test-host", "test");

    public RecordingHandler Handler { get; }
    public PostHogOptions Options { get; }
    public TestMeterFactory MeterFactory { get; } = new();
    public PostHogApi Api { get; }
    public PostHogMetrics Metrics { get; }
    public PostHogBatcher Batcher { get; }
    public PostHogFeatureFlags Flags { get; }
    public ProductAnalytics Analytics { get; }

    public static PostHogEvent Event(string name = "test_event") =>
        new(Guid.CreateVersion7(), name, "user-1", new JsonObject { ["n"] = 1 }, DateTimeOffset.UtcNow);

    public async ValueTask DisposeAsync()
    {
        await Batcher.StopAsync(CancellationToken.None);
        Batcher.Dispose();
        Api.Dispose();
        MeterFactory.Dispose();
    }
}
