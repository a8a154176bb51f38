using ContentMax.Aggregation;
using ContentMax.Aggregation.Queries;
using ContentMax.Alerting;
using ContentMax.Alerting.Health;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.Cache;
using ContentMax.ServiceDefaults.ErrorTracking;
using ContentMax.ServiceDefaults.Messaging;
using ContentMax.ServiceDefaults.RateLimiting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddErrorTracking();
builder.AddProductAnalytics();
builder.AddApiKeyAuthentication(ApiRoles.Read);
// Storage and query statements repeat thousands of times and span dozens of
// partitions: prepared, Postgres plans each once instead of on every call.
builder.AddNpgsqlDataSource("metricsdb", configureDataSourceBuilder: data => data.ConnectionStringBuilder.MaxAutoPrepare = 64);
builder.AddCache();
builder.AddMessaging(bus =>
{
    bus.AddConsumer<MetricsBatchReceivedConsumer>(typeof(MetricsBatchReceivedConsumerDefinition));
    bus.AddConsumer<HealthStatusChangedConsumer>(typeof(HealthStatusChangedConsumerDefinition));
});
builder.AddMetricStorage();
builder.AddAlerting<AlertMetricSignals>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseApiKeyRateLimits();
app.UseAuthorization();
app.MapMetricQueries();
app.MapAlerting();

app.Run();
