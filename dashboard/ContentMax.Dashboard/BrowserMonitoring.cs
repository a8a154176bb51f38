using System.Globalization;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ErrorTracking;

namespace ContentMax.Dashboard;

// What the dashboard's browser monitoring bundle (Browser/, built into
// wwwroot/js/monitoring.js) is told by the server, read once at startup from
// the same Sentry and PostHog settings the services use. Only public client
// keys reach the page: the Sentry DSN and the PostHog project key. A tool
// without its key is null here, and the browser leaves it off.
public sealed record BrowserMonitoringSettings(BrowserSentrySettings? Sentry, BrowserPostHogSettings? PostHog)
{
    public const double DefaultReplaysSessionSampleRate = 0.1;
    public const double DefaultReplaysOnErrorSampleRate = 1.0;

    // Origins the browser sends monitoring data to, for the CSP's connect-src.
    public IReadOnlyList<string> ConnectOrigins =>
        [.. new[] { Sentry?.Origin, PostHog?.Origin }.OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];

    public static BrowserMonitoringSettings From(
        IConfiguration configuration,
        IHostEnvironment environment,
        ErrorTrackingSettings errorTracking,
        ServiceIdentity identity,
        PostHogOptions postHog)
    {
        var sentrySection = configuration.GetSection(ErrorTrackingSettings.SectionName);
        var postHogSection = configuration.GetSection(PostHogOptions.SectionName);

        var sentry = errorTracking.Enabled
            ? new BrowserSentrySettings(
                errorTracking.Dsn!,
                identity.Environment,
                errorTracking.Release ?? identity.Release,
                errorTracking.TracesSampleRate,
                ReadRate(sentrySection, "ReplaysSessionSampleRate", DefaultReplaysSessionSampleRate),
                ReadRate(sentrySection, "ReplaysOnErrorSampleRate", DefaultReplaysOnErrorSampleRate))
            : null;

        var analytics = postHog.Enabled
            ? new BrowserPostHogSettings(
                postHog.ProjectApiKey!.Trim(),
                postHog.Host.Trim().TrimEnd('/'),
                postHog.Environment is { Length: > 0 } configured ? configured : identity.Environment,
                identity.Version,
                ReadBool(postHogSection, "SessionRecording", defaultValue: !environment.IsDevelopment()),
                BootstrapFlags(postHog.BootstrapFlags))
            : null;

        return new BrowserMonitoringSettings(sentry, analytics);
    }

    // Sentry's DSN is https://PUBLICKEY@HOST/PROJECT: the browser posts to HOST.
    internal static string OriginOf(string url, string setting) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? $"{uri.Scheme}://{uri.Authority}"
            : throw new InvalidOperationException($"{setting} is '{url}'; it must be an absolute http(s) URL.");

    private static double ReadRate(IConfigurationSection section, string key, double defaultValue)
    {
        var configured = section[key];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return defaultValue;
        }

        if (double.TryParse(configured, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate is >= 0 and <= 1)
        {
            return rate;
        }

        throw new InvalidOperationException(
            $"{section.Path}:{key} is '{configured}'. It must be a number from 0 to 1 (e.g. 0.1), written with a '.'.");
    }

    private static bool ReadBool(IConfigurationSection section, string key, bool defaultValue)
    {
        var configured = section[key];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return defaultValue;
        }

        return bool.TryParse(configured, out var value)
            ? value
            : throw new InvalidOperationException($"{section.Path}:{key} is '{configured}'. It must be true or false.");
    }

    // "true"/"false" become booleans, anything else is a variant name, as posthog-js expects.
    private static Dictionary<string, object> BootstrapFlags(IReadOnlyDictionary<string, string> flags) =>
        flags.ToDictionary(
            f => f.Key,
            f => bool.TryParse(f.Value, out var enabled) ? (object)enabled : f.Value,
            StringComparer.Ordinal);
}

public sealed record BrowserSentrySettings(
    string Dsn,
    string Environment,
    string Release,
    double TracesSampleRate,
    double ReplaysSessionSampleRate,
    double ReplaysOnErrorSampleRate)
{
    public string Origin { get; } = BrowserMonitoringSettings.OriginOf(Dsn, "Sentry:Dsn");

    // Sentry's endpoint for browser security reports: the DSN's host and path,
    // /api/PROJECT/security/, authenticated by the DSN's public key like envelopes.
    public string SecurityReportUrl
    {
        get
        {
            var dsn = new Uri(Dsn);
            var path = dsn.AbsolutePath.TrimEnd('/');
            var slash = path.LastIndexOf('/');
            if (slash < 0 || slash == path.Length - 1 || string.IsNullOrEmpty(dsn.UserInfo))
            {
                throw new InvalidOperationException($"Sentry:Dsn (for {Origin}) is not a DSN: it needs a public key and a project id (https://KEY@HOST/PROJECT).");
            }

            var query = $"sentry_key={Uri.EscapeDataString(Uri.UnescapeDataString(dsn.UserInfo.Split(':')[0]))}" +
                $"&sentry_environment={Uri.EscapeDataString(Environment)}&sentry_release={Uri.EscapeDataString(Release)}";
            return $"{Origin}{path[..slash]}/api/{path[(slash + 1)..]}/security/?{query}";
        }
    }
}

public sealed record BrowserPostHogSettings(
    string Key,
    string Host,
    string Environment,
    string AppVersion,
    bool SessionRecording,
    IReadOnlyDictionary<string, object> BootstrapFlags)
{
    public string Origin { get; } = BrowserMonitoringSettings.OriginOf(Host, "PostHog:Host");
}
