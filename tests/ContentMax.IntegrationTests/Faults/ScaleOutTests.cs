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
    }

    [Fact]
    public async Task TheSameMessages_StoredByBothReplicasAtOnce_AreStoredOnce()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        var rows = await fixture.RowsAsync();
        var name = $"redelivered_{Guid.NewGuid():N}";
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // Each message twice in a row with one id: the broker hands the two
        // copies to the two replicas, which store them at the same moment.
        const int messages = 200, perMessage = 50;
        var batches = Enumerable.Range(0, messages).Select(m => new MetricsBatchReceived
        {
            Packed = MetricBatchCodec.Encode(Enumerable.Range(0, perMessage)
                .Select(i => new MetricPoint { Id = Guid.CreateVersion7(), Metric = name, Value = 1, Timestamp = now - i })
                .ToArray()),
            Source = "redelivery-test",
        }).ToList();
        await Broker.PublishAsync(await fixture.ConnectionStringAsync("messaging"),
            batches.SelectMany(b => { var id = Guid.NewGuid(); return new[] { (b, (Guid?)id), (b, id) }; }));

        var (stored, distinct) = await rows.WaitForAsync(name, messages * perMessage, TimeSpan.FromSeconds(60));
        Assert.Equal(messages * perMessage, stored);
        Assert.Equal(stored, distinct);
        // The rollups counted each point once too.
        var rolledUp = (long)(await rows.QueryAsync($"SELECT coalesce(sum(count), 0)::bigint FROM metric_rollups_minute WHERE name = '{name}'"))[0][0];
        Assert.Equal(messages * perMessage, rolledUp);
    }

    [Fact]
    public async Task TwoAggregationReplicas_RunOneAlertEvaluator_AndTheOtherTakesOverWhenItIsKilled()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        var rows = await fixture.RowsAsync();

        // One holder of the evaluator's advisory lock, cycling alone.
        var first = await Eventually.UntilAsync(() => EvaluatorAsync(rows), e => e.Cycles >= 3, TimeSpan.FromSeconds(60), e => $"evaluator: {e}");
        Assert.Equal(1, await LockHoldersAsync(rows));
        var later = await Eventually.UntilAsync(() => EvaluatorAsync(rows), e => e.Cycles >= first.Cycles + 3, TimeSpan.FromSeconds(30), e => $"evaluator: {e}");
        Assert.Equal(first.Holder, later.Holder);
        Assert.Equal(1, await LockHoldersAsync(rows));

        // kill -9 the evaluating replica: its lock goes with its connection and the other one takes over.
        var pid = int.Parse(first.Holder.Split('/')[1]);
        ResourceInstances.KillTree(pid);
        var next = await Eventually.UntilAsync(() => EvaluatorAsync(rows), e => e.Holder != first.Holder && e.Cycles >= 2,
            TimeSpan.FromSeconds(60), e => $"evaluator after the kill: {e}");
        output.WriteLine($"Evaluator {first.Holder} killed; {next.Holder} took over.");
        Assert.Equal(1, await LockHoldersAsync(rows));

        // Bring the killed replica back; the evaluator stays where it is.
        var killed = (await fixture.App.WaitForInstancesAsync("aggregation", 1, ResourceInstances.HasExited, TimeSpan.FromMinutes(1)))
            .Single(ResourceInstances.HasExited);
        var started = await fixture.App.ResourceCommands.ExecuteCommandAsync(killed.ResourceId, KnownResourceCommands.StartCommand);
        Assert.True(started.Success, started.Message);
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        var settled = await EvaluatorAsync(rows);
        Assert.Equal(next.Holder, settled.Holder);
        Assert.Equal(1, await LockHoldersAsync(rows));
    }

    private static async Task<(string Holder, long Cycles)> EvaluatorAsync(MetricRows rows)
    {
        try
        {
            var values = await rows.QueryAsync("SELECT holder, cycles FROM alert_evaluator WHERE id = 1");
            return values.Count == 0 ? ("", 0) : ((string)values[0][0], (long)values[0][1]);
        }
        catch (Npgsql.NpgsqlException)
        {
            return ("", 0);
        }
    }

    // Sessions holding the evaluator's advisory lock (key 0x436f6e74_416c7274, split into two 32-bit halves).
    private static async Task<long> LockHoldersAsync(MetricRows rows) =>
        (long)(await rows.QueryAsync("""
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1131376244 AND objid = 1097626228
            """))[0][0];

    [Fact]
    public async Task ARateLimit_IsSharedByTheIngestionReplicasThroughRedis()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var limited = fixture.Client("ingestion", FaultFixture.LimitedKey);

        var probe = await LimitProbe.RunAsync(limited, TimeSpan.FromSeconds(3.5));
        output.WriteLine($"Limited key, {FaultFixture.LimitedRequestsPerSecond}/s, two replicas, Redis up: {probe}");

        Assert.True(probe.Limited > 0, probe.ToString());
        Assert.InRange(probe.MostInOneWindow, 1, FaultFixture.LimitedRequestsPerSecond);
        // Requests that crossed a window boundary count too: over all the windows
        // the probe touched, both replicas together admitted at most the limit each.
        Assert.InRange(probe.Accepted, 1, FaultFixture.LimitedRequestsPerSecond * probe.WindowsSpanned);
    }
}
