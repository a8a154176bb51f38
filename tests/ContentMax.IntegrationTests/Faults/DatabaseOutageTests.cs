using System.Diagnostics;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

[Collection(FaultCollection.Name)]
public class DatabaseOutageTests(FaultFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task DatabaseStopped30sMidStream_ConsumersCatchUpWithin60sOfRecovery_NothingLost_NothingInTheErrorQueue()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        var rows = await fixture.RowsAsync();
        var errorsBefore = (await fixture.ErrorQueueAsync()).Messages;

        var stream = MetricStream.Start(ingestion);
        await stream.WaitForAcceptedAsync(0.3, TimeSpan.FromMinutes(1));
        var storedAtStop = (await rows.CountAsync(stream.Metric)).Rows;
        var outage = Stopwatch.StartNew();
        await fixture.App.StopAsync("postgres", TimeSpan.FromMinutes(1));

        // Ingestion does not need the database: the stream goes on while it is down.
        // Stopping may itself take a while; the outage lasts 30 s in all, or longer.
        var rest = TimeSpan.FromSeconds(30) - outage.Elapsed;
        if (rest > TimeSpan.Zero) await Task.Delay(rest);
        await fixture.App.StartAsync("postgres", TimeSpan.FromMinutes(1));
        var recovered = Stopwatch.StartNew();
        output.WriteLine($"Database down for {outage.Elapsed.TotalSeconds:0.0} s, from {storedAtStop} stored.");

        await stream.Completion;
        var (stored, distinct) = await rows.WaitForAsync(stream.Metric, stream.Total, TimeSpan.FromSeconds(60));
        var caughtUp = recovered.Elapsed - TimeSpan.FromSeconds(2); // WaitForAsync settles for 2 s after the count is reached.
        output.WriteLine($"All {stored} stored {caughtUp.TotalSeconds:0.0} s after the database was back. {stream.Describe()}");

        Assert.True(storedAtStop < stream.Total, "everything was stored before the database stopped");
        Assert.Equal(0, stream.ServerErrors);
        Assert.Equal(stream.Total, stream.Accepted);
        Assert.Equal(stream.Accepted, stored);
        Assert.Equal(stored, distinct);
        Assert.True(caughtUp < TimeSpan.FromSeconds(60), $"caught up only {caughtUp} after recovery");
        Assert.Equal(errorsBefore, (await fixture.ErrorQueueAsync()).Messages);
    }
}
