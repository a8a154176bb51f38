using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.Analytics;

namespace ContentMax.UnitTests;

// PostHogBatcher: batching, retries, drops and counters.
public class AnalyticsBatcherTests
{
    [Fact]
    public async Task Batches_GoToBatchEndpointWithApiKeyAndEveryEventField()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler(), o => { o.FlushAt = 5; o.FlushInterval = TimeSpan.FromMinutes(1); });

        for (var i = 0; i < 5; i++)
        {
            Assert.True(harness.Batcher.TryEnqueue(AnalyticsHarness.Event($"e{i}")));
        }

        await harness.Handler.WaitForAsync(h => h.Events.Count == 5);
        var request = Assert.Single(harness.Handler.Requests);
        Assert.Equal("http://posthog.test/batch/", request.Uri.ToString());
        var body = harness.Handler.Bodies[0];
        Assert.Equal("phc_test", (string?)body["api_key"]);
        foreach (var e in harness.Handler.Events)
        {
            Assert.True(Guid.TryParse((string?)e["uuid"], out _));
            Assert.Equal("user-1", (string?)e["distinct_id"]);
            Assert.NotNull(e["properties"]);
            Assert.NotNull(e["timestamp"]);
        }

        Assert.Equal(5, harness.Metrics.Sent);
    }

    [Fact]
    public async Task FewEvents_AreFlushedByTheInterval()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler(), o => { o.FlushAt = 100; o.FlushInterval = TimeSpan.FromMilliseconds(200); });

        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());
        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());

        await harness.Handler.WaitForAsync(h => h.Events.Count == 2, TimeSpan.FromSeconds(5));
        Assert.Single(harness.Handler.Requests);
    }

    [Fact]
    public async Task FullQueue_DropsTheNewestAndCountsIt_WithoutThrowing()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler(), o => o.MaxQueueSize = 3, start: false);
        using var dropped = new MeasuredCounter(PostHogMetrics.DroppedName, harness.MeterFactory);

        var accepted = Enumerable.Range(0, 5).Select(_ => harness.Batcher.TryEnqueue(AnalyticsHarness.Event())).ToList();

        Assert.Equal([true, true, true, false, false], accepted);
        Assert.Equal(2, harness.Metrics.Dropped);
        Assert.Equal(2, dropped.Total);
        Assert.Equal("queue_full", dropped.LastReason);
        Assert.Equal(3, harness.Batcher.QueuedCount);
    }

    [Fact]
    public async Task ServerErrors_AreRetried_WithTheSameUuids()
    {
        var handler = new RecordingHandler(HttpStatusCode.InternalServerError, HttpStatusCode.BadGateway, HttpStatusCode.OK);
        await using var harness = new AnalyticsHarness(handler, o => { o.FlushAt = 3; o.FlushInterval = TimeSpan.FromMinutes(1); });

        for (var i = 0; i < 3; i++)
        {
            harness.Batcher.TryEnqueue(AnalyticsHarness.Event());
        }

        await handler.WaitForAsync(h => harness.Metrics.Sent == 3);
        Assert.Equal(3, handler.Requests.Count);
        var uuidsPerAttempt = handler.Bodies.Select(b => string.Join(",", b["batch"]!.AsArray().Select(e => (string?)e!["uuid"]))).ToList();
        Assert.Single(uuidsPerAttempt.Distinct());
        Assert.Equal(handler.Requests[0].Body, handler.Requests[2].Body);
        Assert.Equal(6, harness.Metrics.Retried);
        Assert.Equal(0, harness.Metrics.Dropped);
    }

    [Fact]
    public async Task ClientErrors_AreNotRetried_AndCountAsDropped()
    {
        var handler = new RecordingHandler(HttpStatusCode.BadRequest);
        await using var harness = new AnalyticsHarness(handler);

        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());

        await handler.WaitForAsync(h => harness.Metrics.Dropped == 1);
        await Task.Delay(200);
        Assert.Single(handler.Requests);
        Assert.Equal(0, harness.Metrics.Retried);
    }

    [Fact]
    public async Task TooManyRequests_WaitsForRetryAfter()
    {
        var handler = new RecordingHandler((call, _) =>
        {
            var response = new HttpResponseMessage(call == 0 ? HttpStatusCode.TooManyRequests : HttpStatusCode.OK);
            if (call == 0)
            {
                response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
            }

            return Task.FromResult(response);
        });
        await using var harness = new AnalyticsHarness(handler);
        var clock = Stopwatch.StartNew();

        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());

        await handler.WaitForAsync(h => harness.Metrics.Sent == 1);
        Assert.Equal(2, handler.Requests.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {clock.Elapsed}, before Retry-After");
    }

    [Fact]
    public async Task Timeouts_AreRetried()
    {
        var handler = new RecordingHandler(async (call, _) =>
        {
            if (call == 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
            }

            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        await using var harness = new AnalyticsHarness(handler, o => o.RequestTimeout = TimeSpan.FromMilliseconds(200));

        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());

        await handler.WaitForAsync(h => harness.Metrics.Sent == 1);
        Assert.Equal(1, harness.Metrics.Retried);
    }

    [Fact]
    public async Task RetriesExhausted_TheBatchIsDroppedAndCounted()
    {
        var handler = new RecordingHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        await using var harness = new AnalyticsHarness(handler, o => o.MaxRetries = 2);
        using var dropped = new MeasuredCounter(PostHogMetrics.DroppedName, harness.MeterFactory);

        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());

        await handler.WaitForAsync(h => harness.Metrics.Dropped == 1);
        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal(2, harness.Metrics.Retried);
        Assert.Equal("retries_exhausted", dropped.LastReason);
    }

    [Fact]
    public async Task Stop_DrainsTheQueueBeforeReturning()
    {
        var handler = new RecordingHandler();
        var harness = new AnalyticsHarness(handler, o => { o.FlushAt = 100; o.FlushInterval = TimeSpan.FromMinutes(5); });
        for (var i = 0; i < 30; i++)
        {
            harness.Batcher.TryEnqueue(AnalyticsHarness.Event());
        }

        await harness.DisposeAsync();

        Assert.Equal(30, handler.Events.Count);
        Assert.Equal(30, harness.Metrics.Sent);
        Assert.False(harness.Batcher.TryEnqueue(AnalyticsHarness.Event())); // Closed now, and counted.
        Assert.Equal(1, harness.Metrics.Dropped);
    }

    [Fact]
    public async Task Stop_WhenPostHogHangs_GivesUpAfterTheShutdownTimeout()
    {
        var handler = new RecordingHandler(async (_, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30));
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var harness = new AnalyticsHarness(handler, o =>
        {
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(300);
            o.RequestTimeout = TimeSpan.FromSeconds(30);
        });
        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());
        await handler.WaitForAsync(h => h.Requests.Count == 1);
        var clock = Stopwatch.StartNew();

        await harness.DisposeAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stop took {clock.Elapsed}");
        Assert.Equal(1, harness.Metrics.Dropped);
    }

    [Fact]
    public async Task Counters_ArePublishedOnTheContentMaxMeter()
    {
        await using var harness = new AnalyticsHarness(new RecordingHandler());
        using var sent = new MeasuredCounter(PostHogMetrics.SentName, harness.MeterFactory);

        harness.Batcher.TryEnqueue(AnalyticsHarness.Event());

        await harness.Handler.WaitForAsync(_ => sent.Total == 1);
    }

    // Listens to one ContentMax counter of one harness (tests run in parallel).
    private sealed class MeasuredCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public MeasuredCounter(string name, TestMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ContentMaxTelemetry.MeterName && instrument.Name == name && meters.Created(instrument.Meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                Interlocked.Add(ref _total, value);
                foreach (var tag in tags)
                {
                    if (tag.Key == "reason")
                    {
                        LastReason = tag.Value as string;
                    }
                }
            });
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);
        public string? LastReason { get; private set; }

        public void Dispose() => _listener.Dispose();
    }
}
