using ContentMax.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Nothing started here outlives the AppHost, and a part failing its startup stops it with its reasons.
builder.AddLifecycleGuards();

// Infrastructure: PostgreSQL (metricsdb), Redis (cache), RabbitMQ (messaging).
var infrastructure = builder.AddInfrastructure();
var apiKeys = builder.AddApiKeys();

// Schema: versioned SQL migrations, applied once before any service starts.
var schema = builder.AddProject<Projects.ContentMax_Schema>("metricsdb-schema")
    .WithReference(infrastructure.MetricsDb).WaitFor(infrastructure.MetricsDb);

// Ingestion: HTTP → validation → one broker message per batch. Redis shares the
// per-key rate limits between replicas, but ingestion does not wait for it: with
// Redis down, ingestion still starts and limits each key per instance.
var ingestion = builder.AddProject<Projects.ContentMax_Ingestion>("ingestion")
    .WithServicePort(5181)
    .WithConfiguredReplicas("Ingestion")
    .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
    .WithReference(infrastructure.Cache)
    .WithApiKeys(apiKeys)
    .WithForwardedSettings("Ingestion")
    .WithForwardedSettings("Messaging")
    .WithMonitoringTools();

// Aggregation: broker → Postgres (raw rows, rollups, Datadog outbox), the metrics query API (cached in Redis),
// forwarding to Datadog, and alert rules, SLOs and webhook notifications.
var aggregation = builder.AddProject<Projects.ContentMax_Aggregation>("aggregation")
    .WithServicePort(5182)
    .WithConfiguredReplicas("Aggregation")
    .WithReference(infrastructure.MetricsDb).WaitFor(infrastructure.MetricsDb)
    .WithReference(infrastructure.Cache).WaitFor(infrastructure.Cache)
    .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
    .WaitForCompletion(schema)
    .WithApiKeys(apiKeys)
    .WithForwardedSettings("Aggregation")
    .WithForwardedSettings("Datadog")
    .WithForwardedSettings("Alerting")
    .WithForwardedSettings("Retention")
    .WithForwardedSettings("Messaging")
    .WithMonitoringTools();

// Dashboard: the operators' web app, reading from aggregation and health-probe.
var dashboard = builder.AddProject<Projects.ContentMax_Dashboard>("dashboard")
    .WithServicePort(ServicePortExtensions.DashboardDefaultPort)
    .WithReference(aggregation).WaitFor(aggregation)
    .WithApiKeys(apiKeys)
    .WithPlainApiKey(apiKeys, ApiRoles.Read)
    .WithForwardedSettings("Dashboard")
    .WithMonitoringTools();

// Health-probe: checks everything above on a timer and serves /api/health.
var healthProbe = builder.AddProject<Projects.ContentMax_HealthProbe>("health-probe")
    .WithServicePort(5183)
    .WithReference(infrastructure.MetricsDb).WaitFor(infrastructure.MetricsDb)
    .WithReference(infrastructure.Cache).WaitFor(infrastructure.Cache)
    .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
    .WithReference(ingestion)
    .WithReference(aggregation)
    .WithReference(dashboard)
    .WaitForCompletion(schema)
    .WithApiKeys(apiKeys)
    .WithForwardedSettings("HealthProbe")
    .WithForwardedSettings("Messaging")
    .WithMonitoringTools();

dashboard.WithReference(healthProbe);
// Notifications link to the dashboard's Alerts tab and the runbook pages it serves.
aggregation.WithEnvironment("Alerting__DashboardUrl", dashboard.GetEndpoint("http"));
// A receiver on this machine or its network (a local Alertmanager) is refused
// unless allowed; a developer's machine allows it.
if (builder.Environment.EnvironmentName == "Development" && builder.Configuration["Alerting:AllowPrivateReceivers"] is null)
{
    aggregation.WithEnvironment("Alerting__AllowPrivateReceivers", "true");
}

// Every service reports its own API traffic to ingestion with the ContentMax client;
// the dashboard's pages send their web vitals with the browser snippet.
ingestion.WithSelfMonitoring(ingestion, apiKeys);
aggregation.WithSelfMonitoring(ingestion, apiKeys);
healthProbe.WithSelfMonitoring(ingestion, apiKeys);
dashboard.WithSelfMonitoring(ingestion, apiKeys, "/_blazor", "/_framework", "/_content", "/js", "/css", "/favicon.svg", "/app.css")
    .WithBrowserMetrics(ingestion, apiKeys);

builder.Build().Run();
