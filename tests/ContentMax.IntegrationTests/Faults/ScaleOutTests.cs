using ContentMax.Contracts;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

// The fault AppHost runs two replicas of ingestion and of aggregation
// (Scale:*:Replicas=2) on quorum queues.
[Collection(FaultCollection.Name)]
public class ScaleOutTests(FaultFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task TwoAggregationReplicas_ShareTheQueue_AndStoreEveryMetricExactlyOnce()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        var (_, consumers) = await Eventually.UntilAsync(() => fixture.QueueAsync(MessagingTopology.MetricsStorageQueue),
            q => q.Consumers == FaultFixture.Replicas, TimeSpan.FromSeconds(30), q => $"{q.Consumers} consumers on {MessagingTopology.MetricsStorageQueue}");
        Assert.Equal((uint)FaultFixture.Replicas, consumers);
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        var rows = await fixture.RowsAsync();

        var stream = MetricStream.Start(ingestion);
        await stream.Completion;
        var (stored, distinct) = await rows.WaitForAsync(stream.Metric, stream.Total, TimeSpan.FromSeconds(60));
        output.WriteLine($"{stream.Describe()}; {stored} rows, {distinct} distinct ids.");

        Assert.Equal(0, stream.Unavailable + stream.ServerErrors);
        Assert.Equal(stream.Total, stream.Accepted);
        Assert.Equal(stream.Accepted, stored);
        Assert.Equal(stored, distinct);
        // Alert evaluation runs on exactly one replica (a Postgres advisory lock);
        // its assertion belongs here once the evaluator exists.
    }

    [Fact]
    public async Task ARateLimit_IsSharedByTheIngestionReplicasThroughRedis()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var limited = fixture.Client("ingestion", FaultFixture.LimitedKey);

        var probe = await LimitProbe.RunAsync(limited, TimeSpan.FromSeconds(3.5));
        output.WriteLine($"Limited key, {FaultFixture.LimitedRequestsPerSecond}/s, two replicas, Redis up: {probe}");

        Assert.True(probe.Limited > 0, probe.ToString());
        Assert.InRange(probe.MostInOneWindow, 1, FaultFixture.LimitedRequestsPerSecond);
    }
}
