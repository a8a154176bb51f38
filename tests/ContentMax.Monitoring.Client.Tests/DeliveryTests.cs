using System.Diagnostics;
using System.Net;
using ContentMax.Monitoring.Client.Delivery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Tests;

// Delivery against a local HTTP server that reads bodies with the server's parser.
public class DeliveryTests
{
    [Fact]
    public async Task ManySeries_LeaveInRequestsOfAtMostMaxPoints_AllValid()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl, ("FlushInterval", "1s")));

        for (var i = 0; i < 2500; i++) client.Metrics.Track("series_" + i, i);
        await ingestion.WaitForAsync(f => f.Accepted.Count >= 2500);

        Assert.All(ingestion.Arrivals, a => Assert.True(a.Parsed.IsValid && a.Parsed.Points.Length <= 1000));
        // 1000 + 1000 + 500, unless a flush fell in the middle of the loop.
        Assert.InRange(ingestion.Arrivals.Count, 3, 5);
        Assert.Equal(2500, ingestion.Accepted.Select(p => p.Metric).Distinct().Count());
        await Eventually.TrueAsync(() => client.Counters.Sent == 2500, $"2500 sent counted, not {client.Counters.Sent}");
        Assert.All(ingestion.Arrivals, a => Assert.Equal("test-ingest-key", a.ApiKey));
    }

    [Fact]
    public async Task Observations_LingerOneFlushInterval_AndLeaveAsOnePoint()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl, ("FlushInterval", "1s")));

        var started = Stopwatch.StartNew();
        for (var i = 0; i < 100; i++) client.Metrics.Track("api_response_time", 10 + i);
        await ingestion.WaitForAsync(f => f.Accepted.Count > 0, TimeSpan.FromSeconds(5));
        var lingered = started.Elapsed;

        Assert.InRange(lingered, TimeSpan.Zero, TimeSpan.FromSeconds(2.5));
        var point = Assert.Single(ingestion.Accepted);
        Assert.Equal(100, point.Distribution!.Count);
        // Nothing more is sent while nothing is recorded.
        await Task.Delay(1500);
        Assert.Single(ingestion.Arrivals);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Overloaded_IsRetriedAfterRetryAfter_WithTheSameIds(HttpStatusCode answer)
    {
        await using var ingestion = await FakeIngestion.StartAsync(FakeIngestion.Answers((answer, TimeSpan.FromSeconds(1))));
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl));

        for (var i = 0; i < 40; i++) client.Metrics.Track("retried_" + (i % 4), i);
        await ingestion.WaitForAsync(f => f.Accepted.Count >= 4);

        var arrivals = ingestion.Arrivals;
        Assert.Equal([(int)answer, 202], arrivals.Take(2).Select(a => a.Status));
        // The same batch again, byte for byte: the same points and ids.
        Assert.Equal(arrivals[0].Text, arrivals[1].Text);
        Assert.Equal(4, arrivals[1].Parsed.Points.Length);
        // RetryMaxDelay is 200 ms here; the server's Retry-After wins.
        Assert.True(arrivals[1].At - arrivals[0].At >= TimeSpan.FromSeconds(0.9), $"retried after {arrivals[1].At - arrivals[0].At}");
        await Eventually.TrueAsync(() => client.Counters.Sent == 4, $"4 sent counted, not {client.Counters.Sent}");
        Assert.Equal(1, client.Counters.Retried);
        Assert.Equal(40, ingestion.Accepted.Sum(p => p.Count));
    }

    [Fact]
    public async Task AnOutage_KeepsTheBatchAtTheHead_AndDeliversEverythingInOrderAfterwards()
    {
        var down = true;
        await using var ingestion = await FakeIngestion.StartAsync(_ => down ? (HttpStatusCode.BadGateway, null) : (HttpStatusCode.Accepted, null));
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl));

        client.Metrics.Track("first", 1);
        await ingestion.WaitForAsync(f => f.Arrivals.Count >= 3);
        client.Metrics.Track("second", 2);
        await Task.Delay(300);
        down = false;
        await ingestion.WaitForAsync(f => f.Accepted.Count >= 2);

        var firstId = ingestion.Arrivals[0].Parsed.Points[0].Id;
        Assert.All(ingestion.Arrivals.Where(a => a.Status == 502), a => Assert.Equal(firstId, a.Parsed.Points[0].Id));
        Assert.Equal(["first", "second"], ingestion.Accepted.Select(p => p.Metric));
        Assert.Equal(firstId, ingestion.Accepted[0].Id);
        Assert.Single(client.Logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("cannot deliver metrics"));
        Assert.Contains(client.Logs.Lines, l => l.Message.Contains("again after"));
    }

    [Fact]
    public async Task ARejectedBatch_IsNotRetried_ButDroppedCountedAndLoggedOnce()
    {
        await using var ingestion = await FakeIngestion.StartAsync(FakeIngestion.Answers((HttpStatusCode.RequestEntityTooLarge, null), (HttpStatusCode.RequestEntityTooLarge, null)));
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl));

        client.Metrics.Track("refused", 1);
        await ingestion.WaitForAsync(f => f.Arrivals.Count >= 1);
        client.Metrics.Track("refused", 1);
        await ingestion.WaitForAsync(f => f.Arrivals.Count >= 2);
        // The client counts the drop once it has read the answer: after the arrival, under load a while after.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (client.Measured(ClientMetrics.PointsDroppedName, ClientMetrics.Rejected) < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Task.Delay(600); // anything retried would have arrived by now

        Assert.Equal(2, ingestion.Arrivals.Count);
        Assert.Equal(2, client.Measured(ClientMetrics.PointsDroppedName, ClientMetrics.Rejected));
        Assert.Equal(0, client.Counters.Retried);
        Assert.Single(client.Logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("refused a batch") && l.Message.Contains("HTTP 413"));
    }

    [Fact]
    public async Task Stopping_FlushesThePartialInterval_AndDeliversIt()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl, ("FlushInterval", "1h")));

        for (var i = 0; i < 10; i++) client.Metrics.Track("at_shutdown", i);
        await client.StopAsync();

        var point = Assert.Single(ingestion.Accepted);
        Assert.Equal(10, point.Distribution!.Count);
        // Recorded after the client stopped: dropped and counted.
        client.Metrics.Track("too_late", 1);
        Assert.Equal(1, client.Measured(ClientMetrics.PointsDroppedName, ClientMetrics.Shutdown));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_WhileTheServerIsDown_GivesUpAfterShutdownTimeout_AndCountsWhatIsLeft()
    {
        await using var ingestion = await FakeIngestion.StartAsync(_ => (HttpStatusCode.ServiceUnavailable, null));
        var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl, ("ShutdownTimeout", "500ms")));

        client.Metrics.Track("never_delivered", 1);
        await ingestion.WaitForAsync(f => f.Arrivals.Count >= 1);
        var stopping = Stopwatch.StartNew();
        await client.StopAsync();

        Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        Assert.Equal(1, client.Measured(ClientMetrics.PointsDroppedName, ClientMetrics.Shutdown));
        Assert.Contains(client.Logs.Lines, l => l.Message.Contains("shutdown window"));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task TheIngestKey_IsSent_ButNeverLogged()
    {
        await using var ingestion = await FakeIngestion.StartAsync(FakeIngestion.Answers((HttpStatusCode.Unauthorized, null)));
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl));

        client.Metrics.Track("keyed", 1);
        await ingestion.WaitForAsync(f => f.Arrivals.Count >= 1);
        await Task.Delay(200);

        Assert.Equal("test-ingest-key", ingestion.Arrivals[0].ApiKey);
        Assert.Contains(client.Logs.Lines, l => l.Message.Contains("ingest key is missing or unknown"));
        Assert.DoesNotContain(client.Logs.Lines, l => l.Message.Contains("test-ingest-key"));
    }

    [Fact]
    public async Task AnOutageLongerThanTheBufferHolds_DropsAndCountsTheExcess_AndMemoryStaysBounded()
    {
        var down = true;
        await using var ingestion = await FakeIngestion.StartAsync(_ => down ? (HttpStatusCode.ServiceUnavailable, null) : (HttpStatusCode.Accepted, null));
        await using var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl, ("MaxBufferedPoints", "10")));
        var buffer = client.Host.Services.GetRequiredService<PointBuffer>();

        var maxUsed = 0;
        for (var i = 0; i < 75; i++)
        {
            client.Metrics.Track("during_outage", i);
            maxUsed = Math.Max(maxUsed, buffer.Used);
            await Task.Delay(20);
        }

        Assert.InRange(maxUsed, 1, 10);
        var dropped = client.Measured(ClientMetrics.PointsDroppedName, ClientMetrics.BufferFull);
        Assert.True(dropped > 0, "nothing was dropped although more points formed than the buffer holds");
        down = false;
        await ingestion.WaitForAsync(f => f.Accepted.Count > 0);
        await Task.Delay(300);

        // What waited arrives: at most what the bound held beside the series, and then what formed since.
        Assert.InRange(ingestion.Accepted.Count, 1, 10);
        Assert.True(ingestion.Accepted.Sum(p => p.Count) < 75, "every observation arrived although points were dropped");
        Assert.Equal(ingestion.Accepted.Count, ingestion.Accepted.Select(p => p.Id).Distinct().Count());
    }

    // Observations recorded while the host's other services stop (a web
    // server draining its last requests) leave once the host has stopped.
    [Fact]
    public async Task ObservationsRecordedWhileOtherServicesStop_AreSentAfterwards()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var client = await ClientHost.StartAsync(ClientHost.Settings(ingestion.BaseUrl, ("FlushInterval", "1h")), (builder, _) =>
            builder.Services.AddHostedService(sp => new RecordsWhenStopping(sp.GetRequiredService<IMetricsPublisher>())));

        client.Metrics.Track("before_stop", 1);
        await client.StopAsync();

        Assert.Equal(["before_stop", "while_stopping"], ingestion.Accepted.Select(p => p.Metric).Order());
        await client.DisposeAsync();
    }

    private sealed class RecordsWhenStopping(IMetricsPublisher metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            metrics.Track("while_stopping", 1);
            return Task.CompletedTask;
        }
    }
}
