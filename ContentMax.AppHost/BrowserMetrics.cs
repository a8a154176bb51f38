using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

// The dashboard's pages load the browser snippet from ingestion and send it
// their web vitals: they need ingestion's address as the browser reaches it
// and an ingest key. Explicit settings (Dashboard:BrowserMetrics:Endpoint and
// :Key, e.g. a public URL and a named key) win; an empty Endpoint turns the
// snippet off.
//
// Beacons (text/plain, the snippet's way of sending) need no CORS. For its
// fetch fallback, ingestion also accepts the dashboard's origin at its
// configured port, after any origins configured. It is written out rather than
// taken from the dashboard's endpoint: ingestion referring to the dashboard,
// which refers to ingestion, keeps Aspire from stopping and restarting
// ingestion on its own.
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
        var port = configuration[$"Services:{dashboard.Resource.Name}:Port"] ?? ServicePortExtensions.DashboardDefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        ingestion.WithEnvironment($"Ingestion__AllowedOrigins__{next}", $"http://localhost:{port}");
        return dashboard;
    }
}
