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
    private static async Task<string?> TakeFaultReasonAsync(IConnection connection, string metricName)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            while (await channel.BasicGetAsync(MessagingTopology.MetricsStorageQueue + "_error", autoAck: false) is { } message)
            {
                if (Encoding.UTF8.GetString(message.Body.Span).Contains(metricName))
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
