using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ContentMax.IntegrationTests.Faults;
using ContentMax.Monitoring.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests;

// The client keeps recording while ingestion is stopped: its points wait in
// its bounded buffer, the batch at the head is retried with backoff, and
// after ingestion is back everything arrives, each point stored once.
[Collection(AppHostCollection.Name)]
public class MonitoringClientOutageTests(AppHostFixture fixture, ITestOutputHelper output)
{
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task IngestionStopped_PointsWaitAndArriveAfterRecovery_NoneStoredTwice()
    {
        var metric = MetricsApi.UniqueName("mcoutage");
        using var ingestion = fixture.Client("ingestion", key: null);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "outage-" + metric });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContentMaxMonitoring:Endpoint"] = ingestion.BaseAddress!.ToString(),
            ["ContentMaxMonitoring:IngestKey"] = AppHostFixture.IngestKey,
            ["ContentMaxMonitoring:FlushInterval"] = "200ms",
            ["ContentMaxMonitoring:RetryMaxDelay"] = "1s",
            ["ContentMaxMonitoring:RequestTimeout"] = "3s",
            ["ContentMaxMonitoring:ShutdownTimeout"] = "30s",
        });
        builder.Services.AddLogging();
        builder.AddContentMaxMonitoring();
        using var client = builder.Build();
        await client.StartAsync();
        var publisher = client.Services.GetRequiredService<IMetricsPublisher>();
        var counters = client.Services.GetRequiredService<ClientMetrics>();

        // One observation every 20 ms for the whole test, from before the outage to after it.
        long tracked = 0;
        using var stop = new CancellationTokenSource();
        var recording = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                publisher.Track(metric, Interlocked.Increment(ref tracked) % 100, ("phase", "outage-test"));
                await Task.Delay(20);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(2));
        var sentBefore = counters.Sent;
        var outage = Stopwatch.StartNew();
        try
        {
            output.WriteLine(await fixture.App.StopAsync("ingestion", TimeSpan.FromMinutes(1)));
            // Down for a while: the client must notice and keep its points.
            await Eventually.UntilAsync(() => counters.Retried, r => r >= 3, TimeSpan.FromSeconds(60), r => $"only {r} retries while ingestion was down");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(0, counters.Dropped);
        }
        finally
        {
            await fixture.App.StartAsync("ingestion", TimeSpan.FromMinutes(2));
        }

        output.WriteLine($"ingestion was down for {outage.Elapsed.TotalSeconds:0.0} s; {counters.Retried} retries, {counters.Sent - sentBefore} points sent since it stopped");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        await recording;
        await client.StopAsync();
        var total = Interlocked.Read(ref tracked);
        Assert.Equal(0, counters.Dropped);
        Assert.True(counters.Retried >= 3);

        // Every observation once: the count is exact, and no id was stored twice.
        await Eventually.UntilAsync(() => _aggregation.AggregateAsync(metric), a => a?["count"]?.GetValue<long>() >= total,
            TimeSpan.FromSeconds(90), a => $"{a?["count"]} of {total} observations stored", TimeSpan.FromMilliseconds(500));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(total, (await _aggregation.AggregateAsync(metric))!["count"]!.GetValue<long>());

        var rows = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var page = (await _aggregation.GetFromJsonAsync<JsonObject>($"/api/metrics/raw?metric={metric}&period=1h&limit=1000" + (cursor is null ? "" : "&cursor=" + cursor)))!;
            rows.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        Assert.Equal(total, rows.Sum(r => r["count"]!.GetValue<long>()));
        Assert.Equal(rows.Count, rows.Select(r => r["id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(counters.Sent, rows.Count);
    }
}
