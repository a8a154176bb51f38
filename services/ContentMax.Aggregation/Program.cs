using ContentMax.Aggregation;
using ContentMax.Aggregation.Queries;
using ContentMax.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiKeyAuthentication(ApiRoles.Read);
builder.AddNpgsqlDataSource("metricsdb");
builder.AddMessaging(bus => bus.AddConsumer<MetricsBatchReceivedConsumer>(typeof(MetricsBatchReceivedConsumerDefinition)));
builder.AddMetricStorage();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();
app.MapMetricQueries();

app.Run();
