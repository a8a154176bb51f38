using ContentMax.Contracts;
using MassTransit;

namespace ContentMax.Alerting.Health;

// Keeps the latest status of every health check for health rules. The
// health-probe publishes a change only when a status changes.
public sealed class HealthStatusChangedConsumer(HealthStatusStore store) : IConsumer<HealthStatusChanged>
{
    public Task Consume(ConsumeContext<HealthStatusChanged> context) =>
        store.RecordHealthAsync(context.Message, context.CancellationToken);
}

public sealed class HealthStatusChangedConsumerDefinition : ConsumerDefinition<HealthStatusChangedConsumer>
{
    public HealthStatusChangedConsumerDefinition()
    {
        EndpointName = "alerting-health-status";
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<HealthStatusChangedConsumer> consumer, IRegistrationContext context)
    {
        // While the database is away (often the very change being reported),
        // keep retrying for a few minutes before giving the message up.
        endpoint.UseMessageRetry(retry => retry.Exponential(12, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500)));
    }
}
