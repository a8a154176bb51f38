using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

// Scale:<Section>:Replicas runs that many copies of a service (default 1).
// Its fixed port (ServicePorts.cs) then belongs to Aspire's proxy, which
// spreads requests over the replicas; each replica listens on a port of its own.
public static class ScaleExtensions
{
    public static IResourceBuilder<ProjectResource> WithConfiguredReplicas(this IResourceBuilder<ProjectResource> project, string section)
    {
        var key = $"Scale:{section}:Replicas";
        var replicas = project.ApplicationBuilder.Configuration.GetValue<int?>(key) ?? 1;
        if (replicas is < 1 or > 32)
        {
            throw new DistributedApplicationException($"{key} is {replicas}; it must be between 1 and 32.");
        }

        return replicas > 1 ? project.WithReplicas(replicas) : project;
    }
}
