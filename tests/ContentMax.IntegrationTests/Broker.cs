using MassTransit;

namespace ContentMax.IntegrationTests;

// Publishes messages the way another service would: its own MassTransit bus on
// the AppHost's RabbitMQ, started for the messages and stopped again.
public static class Broker
{
    public static async Task PublishAsync<T>(AppHostFixture fixture, T message) where T : class =>
        await PublishAsync(await fixture.ConnectionStringAsync("messaging"), [(message, null)]);

    // Each message with the given MessageId when one is set: publishing the
    // same id again is what a redelivery looks like to the consumer.
    public static async Task PublishAsync<T>(string connection, IEnumerable<(T Message, Guid? MessageId)> messages) where T : class
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(new Uri(connection)));
        await bus.StartAsync();
        try
        {
            foreach (var (message, id) in messages)
            {
                await bus.Publish(message, context =>
                {
                    if (id is { } messageId) context.MessageId = messageId;
                });
            }
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
