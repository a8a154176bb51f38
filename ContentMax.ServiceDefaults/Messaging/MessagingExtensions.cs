using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ContentMax.ServiceDefaults.Messaging;

// MassTransit over the AppHost's RabbitMQ ("messaging"). Publisher confirms stay
// on, so an awaited Publish returns only once the broker has the message.
//
// Messaging:QuorumQueues=true declares every consumer queue (and its _error and
// _skipped queues) as a quorum queue: replicated across a RabbitMQ cluster and
// safe from a single node's loss. A queue's type is fixed when it is created:
// redeclaring an existing classic queue as quorum fails with PRECONDITION_FAILED,
// so switching means draining and deleting the queues first (docs/operations.md).
public static class MessagingExtensions
{
    public const string ConnectionName = "messaging";
    public const string QuorumQueuesSetting = "Messaging:QuorumQueues";

    public static TBuilder AddMessaging<TBuilder>(this TBuilder builder,
        Action<IBusRegistrationConfigurator>? configureBus = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureRabbit = null)
        where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not set. Run the service through ContentMax.AppHost, or set ConnectionStrings__{ConnectionName}=amqp://user:password@host:port.");
        var quorum = UsesQuorumQueues(builder.Configuration);

        // The bus's meter and spans join the service's telemetry, so a trace runs
        // from the HTTP request through the broker into the consumer.
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(MassTransit.Monitoring.InstrumentationOptions.MeterName))
            .WithTracing(tracing => tracing.AddSource(MassTransit.Logging.DiagnosticHeaders.DefaultListenerName));

        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit reports the bus's configuration to its vendor unless told
            // not to; a self-hosted monitoring backend sends nothing it was not
            // configured to send (and the attempt held every stop for seconds).
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            if (quorum)
            {
                bus.AddConfigureEndpointsCallback((_, _, endpoint) =>
                {
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit) rabbit.SetQuorumQueue();
                });
            }

            configureBus?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(connectionString), host => host.PublisherConfirmation = true);
                if (quorum)
                {
                    // Stated explicitly rather than relying on which queue arguments
                    // MassTransit copies from the consumer's queue.
                    rabbit.SendTopology.ConfigureErrorSettings = queue => queue.SetQuorumQueue();
                    rabbit.SendTopology.ConfigureDeadLetterSettings = queue => queue.SetQuorumQueue();
                }

                configureRabbit?.Invoke(context, rabbit);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    public static bool UsesQuorumQueues(IConfiguration configuration) => configuration.GetValue<bool>(QuorumQueuesSetting);

    // For a queue a publisher declares itself (ingestion's binding of the storage
    // queue): it must be declared exactly as the consumer declares it.
    public static void SetConfiguredQueueType(this IRabbitMqQueueConfigurator queue, IConfiguration configuration)
    {
        if (UsesQuorumQueues(configuration)) queue.SetQuorumQueue();
    }
}
