using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

[Collection(FaultCollection.Name)]
public class BrokerRestartTests(FaultFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task BrokerRestartedMidStream_ClientsGet503NotErrors_AndRetriesLoseNothing()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        var rows = await fixture.RowsAsync();

        var stream = MetricStream.Start(ingestion);
        await stream.WaitForAcceptedAsync(0.3, TimeSpan.FromMinutes(1));
        var acceptedAtStop = stream.Accepted;
        await fixture.App.StopAsync("messaging", TimeSpan.FromMinutes(1));
        var unavailableWhileDown = await Eventually.UntilAsync(() => stream.Unavailable, n => n > 0 || stream.Completion.IsCompleted,
            TimeSpan.FromSeconds(30), n => $"{n} 503s while the broker was down");
        await fixture.App.StartAsync("messaging", TimeSpan.FromMinutes(2));

        await stream.Completion;
        output.WriteLine($"Broker stopped at {acceptedAtStop} accepted; {unavailableWhileDown} 503s by the time it was started again. {stream.Describe()}");

        Assert.True(acceptedAtStop < stream.Total, "the stream had finished before the broker stopped");
        Assert.True(stream.Unavailable > 0, "no request was answered 503 while the broker was down");
        Assert.Equal(0, stream.ServerErrors);
        Assert.Equal(stream.Total, stream.Accepted);
        var (stored, distinct) = await rows.WaitForAsync(stream.Metric, stream.Accepted, TimeSpan.FromSeconds(90));
        Assert.Equal(stream.Accepted, stored);
        Assert.Equal(stored, distinct);
    }
}
