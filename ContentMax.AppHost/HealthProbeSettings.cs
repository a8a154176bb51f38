using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

public static class HealthProbeSettingsExtensions
{
    // Forwards the AppHost's HealthProbe:* settings (interval, timeout, external
    // targets) to the health-probe service, so a run or a test can tune them.
    public static IResourceBuilder<ProjectResource> WithHealthProbeSettings(this IResourceBuilder<ProjectResource> project)
    {
        var section = project.ApplicationBuilder.Configuration.GetSection("HealthProbe");
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                project.WithEnvironment("HealthProbe__" + key.Replace(":", "__"), value);
            }
        }

        return project;
    }
}
