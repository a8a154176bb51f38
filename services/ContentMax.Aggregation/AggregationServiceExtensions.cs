using ContentMax.Aggregation.Forwarding;
using ContentMax.Aggregation.Queries;
using ContentMax.Aggregation.Rollups;
using ContentMax.Aggregation.Storage;
using ContentMax.ServiceDefaults.Resilience;

namespace ContentMax.Aggregation;

public static class AggregationServiceExtensions
{
    public static IHostApplicationBuilder AddMetricStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AggregationOptions>()
            .BindConfiguration(AggregationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<DatadogOptions>()
            .BindConfiguration(DatadogOptions.SectionName)
            .Configure<IHostEnvironment>((o, env) => o.Environment = string.IsNullOrEmpty(o.Environment) ? env.EnvironmentName.ToLowerInvariant() : o.Environment)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Forwarding retries through the datadog-intake pipeline, which must be the only one retrying.
        builder.Services.AddHttpClient(DatadogForwarder.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30))
            .WithoutStandardResilience();
        builder.Services.AddSingleton<AggregationMetrics>();
        builder.Services.AddSingleton<DatadogForwarder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DatadogForwarder>());
        builder.Services.AddHostedService<ForwardingMetricsReporter>();
        builder.Services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<PartitionMaintenance>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PartitionMaintenance>());
        builder.Services.AddSingleton<RollupCompactor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RollupCompactor>());
        builder.Services.AddSingleton<MetricStore>();
        builder.Services.AddSingleton<GroupCommit>();
        builder.Services.AddSingleton<MetricQueries>();
        builder.Services.AddSingleton<ExplorerQueries>();
        builder.Services.AddSingleton<QueryCache>();
        builder.Services.AddSingleton<QueryLimits>();
        return builder;
    }
}
