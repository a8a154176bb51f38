namespace ContentMax.AppHost;

// Hands the monitoring tools' settings to a service: the whole Sentry and
// PostHog sections of the AppHost's configuration (Sentry__Dsn,
// Sentry__Environment, PostHog__ProjectApiKey, PostHog__Host, and any tuning
// such as Sentry__TracesSampleRate). They can be given to the AppHost as
// environment variables with those names, in user secrets or appsettings, or
// on the command line (Sentry:Dsn=...). Nothing set means nothing forwarded:
// the service then runs without that tool and says so once at startup.
//
// The Sentry DSN and the PostHog project key are public client keys (browsers
// carry them too), so they travel as plain settings, not secret parameters.
public static class MonitoringToolSettings
{
    public const string SentrySection = "Sentry";
    public const string PostHogSection = "PostHog";

    public static IResourceBuilder<ProjectResource> WithMonitoringTools(this IResourceBuilder<ProjectResource> project) =>
        project
            .WithForwardedSettings(SentrySection)
            .WithForwardedSettings(PostHogSection);
}
