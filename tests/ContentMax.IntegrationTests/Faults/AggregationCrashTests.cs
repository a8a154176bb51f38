using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

[Collection(FaultCollection.Name)]
public class AggregationCrashTests(FaultFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task AggregationKilledMidStream_AfterRestart_EveryAcceptedMetricIsStoredExactlyOnce()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        var rows = await fixture.RowsAsync();

        var stream = MetricStream.Start(ingestion);
        await stream.WaitForAcceptedAsync(0.3, TimeSpan.FromMinutes(1));

        // Every replica at once, with SIGKILL: whatever they had prefetched and not
        // yet acknowledged must come back from the broker.
        var instances = await fixture.App.WaitForInstancesAsync("aggregation", FaultFixture.Replicas, ResourceInstances.IsHealthy, TimeSpan.FromSeconds(10));
        var acceptedAtKill = stream.Accepted;
        foreach (var instance in instances)
        {
            ResourceInstances.KillTree(ResourceInstances.ProcessId(instance));
        }

        await fixture.App.RestartExitedAsync("aggregation", FaultFixture.Replicas, TimeSpan.FromMinutes(2));
        await stream.Completion;
        output.WriteLine($"Killed {instances.Count} aggregation replicas at {acceptedAtKill} accepted. {stream.Describe()}");

        Assert.True(acceptedAtKill < stream.Total, "the stream had finished before the kill");
        Assert.Equal(0, stream.ServerErrors);
        Assert.Equal(stream.Total, stream.Accepted);
        var (stored, distinct) = await rows.WaitForAsync(stream.Metric, stream.Accepted, TimeSpan.FromSeconds(90));
        Assert.Equal(stream.Accepted, stored);
        Assert.Equal(stored, distinct);
    }
}
