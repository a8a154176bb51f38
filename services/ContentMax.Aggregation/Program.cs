using ContentMax.Aggregation;
using ContentMax.Aggregation.Queries;
using ContentMax.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiKeyAuthentication(ApiRoles.Read);
builder.AddNpgsqlDataSource("metricsdb");
// The cache is optional: Redis being down must not make aggregation unhealthy.
builder.AddRedisClient("cache", settings => settings.DisableHealthChecks = true,
    options => options.AbortOnConnectFail = false);
builder.AddMessaging(bus => bus.AddConsumer<MetricsBatchReceivedConsumer>(typeof(MetricsBatchReceivedConsumerDefinition)));
builder.AddMetricStorage();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseApiKeyRateLimits();
app.UseAuthorization();
app.MapMetricQueries();

app.Run();
