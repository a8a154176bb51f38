using MassTransit;

namespace ContentMax.IntegrationTests;

// Publishes a message the way another service would: its own MassTransit bus on
// the AppHost's RabbitMQ, started for the one message and stopped again.
public static class Broker
{
    public static async Task PublishAsync<T>(AppHostFixture fixture, T message) where T : class
    {
        var connection = await fixture.ConnectionStringAsync("messaging");
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(new Uri(connection)));
        await bus.StartAsync();
        try
        {
            await bus.Publish(message);
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
