using ContentMax.Ingestion;
using ContentMax.Ingestion.ConnectionLane;
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
builder.AddApiKeyAuthentication(ApiRoles.Ingest);
// Redis shares the per-key rate limits between replicas.
builder.AddCache();
builder.AddMessaging(configureRabbit: (_, rabbit) => rabbit.BindMetricsStorageQueue(builder.Configuration));
builder.AddMetricIngestion();
// Server POSTs to /api/metrics are answered below Kestrel's HTTP layer.
builder.AddIngestConnectionLane();

var app = builder.Build();

// Server POSTs to /api/metrics with a header key that reach Kestrel answer from the fast lane.
app.MapDefaultEndpoints(hotPaths: lane => lane.UseIngestFastLane());
app.UseCors();
app.UseAuthentication();
app.UseApiKeyRateLimits();
app.UseAuthorization();
app.MapMetricIngestion();
app.MapOtlpIngestion();
app.MapPrometheusRemoteWrite();
app.MapBrowserSdk();

app.Run();
