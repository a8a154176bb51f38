using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

public static class ForwardedSettingsExtensions
{
    // Forwards one section of the AppHost's configuration (e.g. HealthProbe:*)
    // to a service as environment variables, so a run or a test can tune the
    // service from the AppHost's command line or environment.
    public static IResourceBuilder<ProjectResource> WithForwardedSettings(this IResourceBuilder<ProjectResource> project, string section)
    {
        foreach (var (key, value) in project.ApplicationBuilder.Configuration.GetSection(section).AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                project.WithEnvironment($"{section}__{key.Replace(":", "__")}", value);
            }
        }

        return project;
    }
}
