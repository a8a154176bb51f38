namespace ContentMax.AppHost;

// Each service listens on a fixed, documented port in `dotnet run`
// (Services:<name>:Port overrides it). Test runs get random ports from Aspire.
// Every service process also gets the AppHost's environment name and a cap on
// malloc's arenas (NativeMemory.cs).
public static class ServicePortExtensions
{
    public const int DashboardDefaultPort = 5180;

    public static IResourceBuilder<ProjectResource> WithServicePort(this IResourceBuilder<ProjectResource> project, int defaultPort)
    {
        var configured = project.ApplicationBuilder.Configuration[$"Services:{project.Resource.Name}:Port"];
        var port = int.TryParse(configured, out var p) ? p : defaultPort;
        // Services run in the AppHost's environment (Development under `dotnet run`).
        var environment = project.ApplicationBuilder.Environment.EnvironmentName;
        return project
            .WithHttpEndpoint(port: port, name: "http")
            .WithHttpHealthCheck("/health")
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", environment)
            .WithEnvironment("DOTNET_ENVIRONMENT", environment)
            .WithFewMallocArenas();
    }
}
