using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// Who is reporting: the service as the Aspire dashboard names it, the build it
// runs (version and commit), the machine, and the deployment environment.
// Sentry's release and tags and PostHog's super properties all come from here,
// so the two tools describe a service the same way.
public sealed record ServiceIdentity(string Name, string Version, string Host, string Environment)
{
    public const string ReleasePrefix = "contentmax@";

    // "contentmax@0.1.0+<commit sha>": the informational version carries the
    // commit because Directory.Build.props sets IncludeSourceRevisionInInformationalVersion.
    public string Release => ReleasePrefix + Version;

    public bool IsProduction => string.Equals(Environment, "production", StringComparison.OrdinalIgnoreCase);

    public static ServiceIdentity Resolve(IConfiguration configuration, IHostEnvironment hostEnvironment)
    {
        // Aspire sets OTEL_SERVICE_NAME to the resource name ("ingestion"), which is
        // what operators see everywhere else; the assembly name is the fallback.
        var name = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } otelName ? otelName : hostEnvironment.ApplicationName;
        var environment = configuration[$"{ErrorTrackingSettings.SectionName}:Environment"] is { Length: > 0 } configured
            ? configured.Trim()
            : hostEnvironment.EnvironmentName.ToLowerInvariant();
        return new ServiceIdentity(name, InformationalVersion(), System.Environment.MachineName, environment);
    }

    // The service's own assembly; when the host is something else (a test
    // runner), ServiceDefaults', which is built from the same commit.
    public static string InformationalVersion(Assembly? assembly = null)
    {
        assembly ??= Assembly.GetEntryAssembly() is { } entry && entry.GetName().Name?.StartsWith("ContentMax.", StringComparison.Ordinal) == true
            ? entry
            : typeof(ServiceIdentity).Assembly;
        return assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";
    }
}
