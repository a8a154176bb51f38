using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace ContentMax.AppHost;

public static partial class ForwardedSettingsExtensions
{
    // Forwards one section of the AppHost's configuration (e.g. HealthProbe:*)
    // to a service as environment variables, so a run or a test can tune the
    // service from the AppHost's command line or environment. Secrets among
    // them (Datadog's API key, webhook receivers' URLs and headers, any key,
    // token, password or secret) travel as secret Aspire parameters: masked in
    // the Aspire dashboard and never written into a manifest.
    public static IResourceBuilder<ProjectResource> WithForwardedSettings(this IResourceBuilder<ProjectResource> project, string section)
    {
        var builder = project.ApplicationBuilder;
        foreach (var (key, value) in builder.Configuration.GetSection(section).AsEnumerable(makePathsRelative: true))
        {
            if (value is null) continue;
            var variable = $"{section}__{key.Replace(":", "__")}";
            if (!IsSecret($"{section}:{key}"))
            {
                project.WithEnvironment(variable, value);
                continue;
            }

            var name = ParameterName().Replace($"{section}-{key}".ToLowerInvariant(), "-");
            var parameter = builder.Resources.OfType<ParameterResource>().FirstOrDefault(p => p.Name == name) is { } existing
                ? builder.CreateResourceBuilder(existing)
                : builder.AddParameter(name, value, secret: true);
            project.WithEnvironment(variable, parameter);
        }

        return project;
    }

    public static bool IsSecret(string setting) => SecretSetting().IsMatch(setting);

    [GeneratedRegex(@"(ApiKey|Token|Password|Secret|Dsn)$|^Alerting:Receivers:\d+:(Url|Headers:.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretSetting();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex ParameterName();
}
