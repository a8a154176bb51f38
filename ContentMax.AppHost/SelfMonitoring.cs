using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

// Every service reports its own API traffic to ingestion with the ContentMax
// client library (ContentMax.ServiceDefaults/SelfMonitoring.cs), under an
// ingest key and its resource name as the `service` tag. SelfMonitoring:Enabled=false
// turns it off (the shared test AppHost does, so its tests count only their own points).
public static class SelfMonitoringExtensions
{
    public static IResourceBuilder<ProjectResource> WithSelfMonitoring(
        this IResourceBuilder<ProjectResource> project, IResourceBuilder<ProjectResource> ingestion, ApiKeys keys, params string[] excludedPaths)
    {
        if (!project.ApplicationBuilder.Configuration.GetValue("SelfMonitoring:Enabled", true)) return project;

        project
            .WithEnvironment("ContentMaxMonitoring__Endpoint", ingestion.GetEndpoint("http"))
            .WithEnvironment("ContentMaxMonitoring__IngestKey", keys.Ingest)
            .WithEnvironment("ContentMaxMonitoring__ServiceName", project.Resource.Name);

        // Setting any excluded path replaces the defaults, so they are repeated.
        string[] paths = excludedPaths.Length == 0 ? [] : ["/health", "/alive", .. excludedPaths];
        for (var i = 0; i < paths.Length; i++)
        {
            project.WithEnvironment($"ContentMaxMonitoring__ExcludedPaths__{i}", paths[i]);
        }

        return project;
    }
}
