using ContentMax.Ingestion;
using ContentMax.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiKeyAuthentication(ApiRoles.Ingest);
builder.AddMessaging(configureRabbit: (_, rabbit) => rabbit.BindMetricsStorageQueue());
builder.AddMetricIngestion();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseCors();
app.UseAuthentication();
app.UseAuthorization();
app.MapMetricIngestion();

app.Run();
