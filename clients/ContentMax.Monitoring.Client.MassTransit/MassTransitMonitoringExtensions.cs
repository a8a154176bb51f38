using ContentMax.Monitoring.Client.MassTransit;

namespace ContentMax.Monitoring.Client;

/// <summary>Sends the client's points through MassTransit.</summary>
public static class MassTransitMonitoringExtensions
{
    /// <summary>
    /// Publishes the client's points as <c>ContentMax.Contracts.MetricsBatchReceived</c>
    /// through the service's own MassTransit bus (configure the bus with
    /// <c>AddMassTransit</c> as usual, on ContentMax's RabbitMQ) instead of
    /// POSTing them to ingestion. It becomes the transport unless
    /// <c>ContentMaxMonitoring:Transport</c> says otherwise; no Endpoint is needed.
    /// </summary>
    /// <param name="builder">The builder <c>AddContentMaxMonitoring()</c> returned.</param>
    /// <returns>The builder.</returns>
    public static IContentMaxMonitoringBuilder UseMassTransit(this IContentMaxMonitoringBuilder builder) =>
        builder.AddTransport<MassTransitMetricsTransport>(ContentMaxMonitoringOptions.MassTransitTransport, makeDefault: true);
}
