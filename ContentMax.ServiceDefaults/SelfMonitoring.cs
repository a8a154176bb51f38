using ContentMax.Monitoring.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace ContentMax.ServiceDefaults;

// ContentMax monitors itself with the client library its users add: every
// service's API requests (api_requests, api_response_time, errors) reach
// ingestion like any other service's, so the Usage and Errors tabs and the API
// SLOs show ContentMax's own traffic out of the box. The AppHost turns it on
// by giving each service ContentMaxMonitoring:Endpoint (ingestion) and an
// ingest key; without them nothing is registered.
//
// There is no feedback loop: the client aggregates in process and sends one
// point per route, method, status and second, so ingestion's own ingest
// requests, however many, become a handful of points a second.
public static class SelfMonitoring
{
    public static TBuilder AddSelfMonitoring<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{ContentMaxMonitoringOptions.SectionName}:Endpoint"]))
        {
            builder.AddContentMaxMonitoring();
            // The client's own counters (points sent, dropped by reason, retried)
            // join the service's telemetry, so a failing delivery shows there too.
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(ClientMetrics.MeterName));
        }

        return builder;
    }

    // Records each request; goes right after the exception handler, so it sees
    // the status the handler gives an exception and the exception itself.
    public static WebApplication UseSelfMonitoring(this WebApplication app)
    {
        if (app.Services.GetService<IMetricsPublisher>() is not null)
        {
            app.UseContentMaxMonitoring();
        }

        return app;
    }
}
