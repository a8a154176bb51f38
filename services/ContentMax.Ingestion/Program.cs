using ContentMax.Ingestion;
using ContentMax.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiKeyAuthentication(ApiRoles.Ingest);
// Redis shares the per-key rate limits between replicas. It is optional: while it
// is down (or not yet up) each instance enforces the limits on its own.
builder.AddRedisClient("cache", settings => settings.DisableHealthChecks = true, options => options.AbortOnConnectFail = false);
builder.AddMessaging(configureRabbit: (_, rabbit) => rabbit.BindMetricsStorageQueue(builder.Configuration));
builder.AddMetricIngestion();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseCors();
app.UseAuthentication();
app.UseApiKeyRateLimits();
app.UseAuthorization();
app.MapMetricIngestion();
app.MapOtlpIngestion();
app.MapPrometheusRemoteWrite();
app.MapBrowserSdk();

app.Run();
