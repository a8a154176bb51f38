using ContentMax.HealthProbe;
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
builder.AddNpgsqlDataSource("metricsdb", settings => settings.DisableHealthChecks = true);
builder.AddCache();
builder.AddMessaging();
builder.AddHealthProbes();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseApiKeyRateLimits();
app.UseAuthorization();
app.MapHealthApi();

app.Run();
