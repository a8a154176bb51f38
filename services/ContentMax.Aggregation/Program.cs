using ContentMax.Aggregation;
using ContentMax.Aggregation.Queries;
using ContentMax.Alerting;
using ContentMax.Alerting.Health;
using ContentMax.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiKeyAuthentication(ApiRoles.Read);
// Storage and query statements repeat thousands of times and span dozens of
// partitions: prepared, Postgres plans each once instead of on every call.
builder.AddNpgsqlDataSource("metricsdb", configureDataSourceBuilder: data => data.ConnectionStringBuilder.MaxAutoPrepare = 64);
// The cache is optional: Redis being down must not make aggregation unhealthy.
builder.AddRedisClient("cache", settings => settings.DisableHealthChecks = true,
    options => options.AbortOnConnectFail = false);
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
