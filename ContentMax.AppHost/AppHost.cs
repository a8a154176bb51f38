using ContentMax.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Infrastructure: PostgreSQL (metricsdb), Redis (cache), RabbitMQ (messaging).
var infrastructure = builder.AddInfrastructure();
var apiKeys = builder.AddApiKeys();

// Schema: versioned SQL migrations, applied once before any service starts.
var schema = builder.AddProject<Projects.ContentMax_Schema>("metricsdb-schema")
    .WithReference(infrastructure.MetricsDb).WaitFor(infrastructure.MetricsDb);

// Ingestion: HTTP → validation → one broker message per batch.
builder.AddProject<Projects.ContentMax_Ingestion>("ingestion")
    .WithServicePort(5181)
    .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
    .WithApiKeys(apiKeys);

// Aggregation: broker → Postgres, and the metrics query API.
builder.AddProject<Projects.ContentMax_Aggregation>("aggregation")
    .WithServicePort(5182)
    .WithReference(infrastructure.MetricsDb).WaitFor(infrastructure.MetricsDb)
    .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
    .WaitForCompletion(schema)
    .WithApiKeys(apiKeys);

builder.Build().Run();
