using System.Text;
using ContentMax.Contracts;
using RabbitMQ.Client;

namespace ContentMax.IntegrationTests;

// Other services publish metrics straight to the broker with the shared contract.
[Collection(AppHostCollection.Name)]
public class DirectPublishTests(AppHostFixture fixture)
{
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    private Task PublishAsync(MetricsBatchReceived message) => Broker.PublishAsync(fixture, message);

    private static MetricPoint Point(string name, double value) => new()
    {
        Id = Guid.NewGuid(),
        Metric = name,
        Value = value,
        Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        Tags = new() { ["service"] = "billing" },
    };

    [Fact]
    public async Task MessagePublishedThroughMassTransit_IsStored()
    {
        var name = MetricsApi.UniqueName();

        await PublishAsync(new MetricsBatchReceived { Metrics = [Point(name, 3), Point(name, 5)], Source = "billing" });

        var aggregate = await _aggregation.WaitForCountAsync(name, 2);
        Assert.Equal(8, aggregate["sum"]!.GetValue<double>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheSameMessageDeliveredAgain_IsStoredOnce(bool packed)
    {
        var name = MetricsApi.UniqueName();
        MetricPoint[] points = [Point(name, 3), Point(name, 5), Point(name, 7)];
        var message = packed
            ? new MetricsBatchReceived { Packed = MetricBatchCodec.Encode(points), Source = "billing" }
            : new MetricsBatchReceived { Metrics = points, Source = "billing" };
        var id = Guid.NewGuid();

        await Broker.PublishAsync(await fixture.ConnectionStringAsync("messaging"), [(message, (Guid?)id), (message, id), (message, id)]);

        // Once a later message is stored, every copy before it has been consumed.
        var sentinel = MetricsApi.UniqueName();
        await PublishAsync(new MetricsBatchReceived { Metrics = [Point(sentinel, 1)], Source = "billing" });
        await _aggregation.WaitForCountAsync(sentinel, 1);
        var aggregate = await _aggregation.WaitForCountAsync(name, 3);
        Assert.Equal((3L, 15.0), (aggregate["count"]!.GetValue<long>(), aggregate["sum"]!.GetValue<double>()));
    }

    [Fact]
    public async Task PointsPublishedAgainInANewMessage_AreStoredOnce()
    {
        // The JSON form keys every point by its id, as a publisher retrying after
        // a lost confirm sends the same points in a message with a new id.
        var name = MetricsApi.UniqueName();
        MetricPoint[] points = [Point(name, 3), Point(name, 5)];

        await PublishAsync(new MetricsBatchReceived { Metrics = points, Source = "billing" });
        await PublishAsync(new MetricsBatchReceived { Metrics = [.. points, Point(name, 10)], Source = "billing" });

        var aggregate = await _aggregation.WaitForCountAsync(name, 3);
        var sentinel = MetricsApi.UniqueName();
        await PublishAsync(new MetricsBatchReceived { Metrics = [Point(sentinel, 1)], Source = "billing" });
        await _aggregation.WaitForCountAsync(sentinel, 1);
        Assert.Equal(18, (await _aggregation.AggregateAsync(name))!["sum"]!.GetValue<double>());
        Assert.Equal(3, aggregate["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task HistogramPoint_CountsAllItsObservations()
    {
        var name = MetricsApi.UniqueName();
        var point = Point(name, 930) with
        {
            Distribution = new Distribution { Count = 6, Min = 12, Max = 480, Bounds = [100, 250], BucketCounts = [2, 3, 1] },
        };

        await PublishAsync(new MetricsBatchReceived { Packed = MetricBatchCodec.Encode([point]), Source = "billing" });

        var aggregate = await _aggregation.WaitForCountAsync(name, 6);
        Assert.Equal((930.0, 12.0, 480.0, false), (aggregate["sum"]!.GetValue<double>(), aggregate["min"]!.GetValue<double>(),
            aggregate["max"]!.GetValue<double>(), aggregate["exact"]!.GetValue<bool>()));
        // Nearest rank 3 of 6 falls in (100, 250].
        Assert.InRange(aggregate["median"]!.GetValue<double>(), 100, 250);
    }

    [Fact]
    public async Task PackedMessageThatCannotBeDecoded_LandsInTheErrorQueue()
    {
        var name = MetricsApi.UniqueName();
        var packed = MetricBatchCodec.Encode([Point(name, 1)]);

        await PublishAsync(new MetricsBatchReceived { Packed = packed[..^3], Source = "billing" });

        var factory = new ConnectionFactory { Uri = new Uri(await fixture.ConnectionStringAsync("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        var reason = await Eventually.UntilAsync<string?>(() => TakeFaultReasonAsync(connection, Convert.ToBase64String(packed[..^3])),
            r => r is not null, TimeSpan.FromSeconds(30), _ => "no fault for the truncated message yet", TimeSpan.FromMilliseconds(200));
        Assert.Contains("packed: The packed metrics are truncated or corrupt.", reason);
        Assert.Null(await _aggregation.AggregateAsync(name));
    }

    [Fact]
    public async Task InvalidMessage_LandsInTheErrorQueueWithItsReason_AndIsNotStored()
    {
        var name = MetricsApi.UniqueName();

        await PublishAsync(new MetricsBatchReceived { Metrics = [Point(name, 1), Point(name, double.MaxValue) with { Metric = "1" + name }], Source = "billing" });

        var factory = new ConnectionFactory { Uri = new Uri(await fixture.ConnectionStringAsync("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? reason = null;
        while (reason is null && DateTime.UtcNow < deadline)
        {
            reason = await TakeFaultReasonAsync(connection, name);
            if (reason is null) await Task.Delay(200);
        }

        Assert.NotNull(reason);
        Assert.Contains("[1].metric: must start with a letter", reason);
        Assert.Null(await _aggregation.AggregateAsync(name));
    }

    // The error queue appears with the first fault; until then reading it fails
    // with 404, which closes the channel, so each attempt opens its own.
    private static async Task<string?> TakeFaultReasonAsync(IConnection connection, string bodyText)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            while (await channel.BasicGetAsync(MessagingTopology.MetricsStorageQueue + "_error", autoAck: false) is { } message)
            {
                if (Encoding.UTF8.GetString(message.Body.Span).Contains(bodyText))
                {
                    await channel.BasicAckAsync(message.DeliveryTag, multiple: false);
                    return Encoding.UTF8.GetString((byte[])message.BasicProperties.Headers!["MT-Fault-Message"]!);
                }

                await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);
            }
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
        }

        return null;
    }
}
