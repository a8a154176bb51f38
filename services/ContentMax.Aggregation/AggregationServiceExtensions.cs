using ContentMax.Aggregation.Queries;
using ContentMax.Aggregation.Storage;

namespace ContentMax.Aggregation;

public static class AggregationServiceExtensions
{
    public static IHostApplicationBuilder AddMetricStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AggregationOptions>()
            .BindConfiguration(AggregationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MetricStore>();
        builder.Services.AddSingleton<MetricQueries>();
        builder.Services.AddSingleton<QueryCache>();
        return builder;
    }
}
