using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

// The dashboard's pages load the browser snippet from ingestion and send it
// their web vitals: they need ingestion's address as the browser reaches it
// and an ingest key, and ingestion must accept the dashboard's origin (CORS),
// after any origins configured. Explicit settings (Dashboard:BrowserMetrics:Endpoint
// and :Key, e.g. a public URL and a named key) win; an empty Endpoint turns the
// snippet off.
public static class BrowserMetricsExtensions
{
    public static IResourceBuilder<ProjectResource> WithBrowserMetrics(
        this IResourceBuilder<ProjectResource> dashboard, IResourceBuilder<ProjectResource> ingestion, ApiKeys keys)
    {
        var configuration = dashboard.ApplicationBuilder.Configuration;
        // No WaitFor: without ingestion only the beacons fail.
        dashboard.WithReference(ingestion);
        if (configuration["Dashboard:BrowserMetrics:Endpoint"] is null)
        {
            dashboard.WithEnvironment("Dashboard__BrowserMetrics__Endpoint", ingestion.GetEndpoint("http"));
        }

        if (configuration["Dashboard:BrowserMetrics:Key"] is null)
        {
            dashboard.WithEnvironment("Dashboard__BrowserMetrics__Key", keys.Ingest);
        }

        var next = configuration.GetSection("Ingestion:AllowedOrigins").GetChildren()
            .Select(origin => int.TryParse(origin.Key, out var index) ? index + 1 : 0).DefaultIfEmpty(0).Max();
        ingestion.WithEnvironment($"Ingestion__AllowedOrigins__{next}", dashboard.GetEndpoint("http"));
        return dashboard;
    }
}
