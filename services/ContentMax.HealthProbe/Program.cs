using ContentMax.HealthProbe;
using ContentMax.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiKeyAuthentication(ApiRoles.Read);
builder.AddNpgsqlDataSource("metricsdb", settings => settings.DisableHealthChecks = true);
builder.AddRedisClient("cache", settings => settings.DisableHealthChecks = true, options => options.AbortOnConnectFail = false);
builder.AddMessaging();
builder.AddHealthProbes();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseApiKeyRateLimits();
app.UseAuthorization();
app.MapHealthApi();

app.Run();
