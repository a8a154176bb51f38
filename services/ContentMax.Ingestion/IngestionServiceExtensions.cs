using ContentMax.Contracts;
using ContentMax.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion;

public static class IngestionServiceExtensions
{
    public static IHostApplicationBuilder AddMetricIngestion(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestionOptions>()
            .BindConfiguration(IngestionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<IngestionMetrics>();
        builder.Services.AddSingleton<MetricBatcher>();
        builder.Services.AddSingleton<CardinalityGuard>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricBatcher>());

        builder.Services.AddCors();
        builder.Services.AddSingleton<IConfigureOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>, IngestCorsSetup>();
        return builder;
    }

    // Ingestion declares the storage queue and binds it to the message's own
    // exchange. Without this, metrics published before the aggregation service
    // first bound its queue would reach an exchange with no queue and vanish.
    // The queue is declared with the same type (Messaging:QuorumQueues) as the
    // consumer's. Aggregation reaches the same queue through an exchange of the
    // queue's name; RabbitMQ puts a message into a queue once however many routes
    // lead there. Messages are also published mandatory (MetricBatcher), so a
    // message no queue takes is refused, never confirmed.
    public static void BindMetricsStorageQueue(this IRabbitMqBusFactoryConfigurator rabbit, IConfiguration configuration) =>
        rabbit.Publish<MetricsBatchReceived>(publish =>
            publish.BindQueue(publish.Exchange.ExchangeName, MessagingTopology.MetricsStorageQueue,
                queue => queue.SetConfiguredQueueType(configuration)));
}

internal sealed class IngestCorsSetup(IOptions<IngestionOptions> options)
    : IConfigureOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>
{
    public const string PolicyName = "ingest";

    public void Configure(Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions cors) =>
        cors.AddPolicy(PolicyName, policy => policy
            .WithOrigins(options.Value.AllowedOrigins)
            .WithMethods("POST")
            .WithHeaders("Content-Type", "X-Api-Key", "Authorization")
            .SetPreflightMaxAge(TimeSpan.FromHours(1)));
}
