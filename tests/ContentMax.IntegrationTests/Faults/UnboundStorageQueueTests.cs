using ContentMax.Contracts;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

[Collection(FaultCollection.Name)]
public class UnboundStorageQueueTests(FaultFixture fixture, ITestOutputHelper output)
{
    // The first start on a fresh broker: ingestion answers before aggregation
    // has bound its queue. Ingestion binds the queue to the message's exchange
    // itself, and publishes mandatory, so a message no queue takes comes back
    // as a 503 (retried) instead of a 202 for nothing. Here every route into the
    // queue is taken away while aggregation is down: what ingestion accepts waits
    // in the queue, and all of it is stored once aggregation starts.
    [Fact]
    public async Task NoRouteToTheStorageQueue_AcceptedMetricsWaitInIt_AndAreStoredOnceAggregationStarts()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        var rows = await fixture.RowsAsync();

        var instances = await fixture.App.WaitForInstancesAsync("aggregation", FaultFixture.Replicas, ResourceInstances.IsHealthy, TimeSpan.FromSeconds(10));
        foreach (var instance in instances)
        {
            ResourceInstances.KillTree(ResourceInstances.ProcessId(instance));
        }

        await fixture.App.WaitForInstancesAsync("aggregation", FaultFixture.Replicas, ResourceInstances.HasExited, TimeSpan.FromMinutes(1));
        await fixture.RemoveStorageRoutesAsync();

        var stream = MetricStream.Start(ingestion, metrics: 5_000, senders: 4, timeout: TimeSpan.FromMinutes(2));
        await stream.Completion;
        var (queued, consumers) = await fixture.QueueAsync(MessagingTopology.MetricsStorageQueue);
        output.WriteLine($"With no route into the queue and no consumer: {stream.Describe()}; the queue holds {queued} messages.");

        Assert.Equal(0, stream.ServerErrors);
        Assert.Equal(stream.Total, stream.Accepted);
        Assert.Equal(0u, consumers);
        Assert.True(queued > 0, "nothing accepted is waiting in the storage queue");

        await fixture.App.RestartExitedAsync("aggregation", FaultFixture.Replicas, TimeSpan.FromMinutes(2));
        var (stored, distinct) = await rows.WaitForAsync(stream.Metric, stream.Accepted, TimeSpan.FromSeconds(90));
        Assert.Equal(stream.Accepted, stored);
        Assert.Equal(stored, distinct);
    }
}
