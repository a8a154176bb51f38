using System.Security.Claims;
using System.Text.Json;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;

namespace ContentMax.Dashboard;

public static class BrowserMonitoringExtensions
{
    private static readonly JsonSerializerOptions PageJson = new(JsonSerializerDefaults.Web);

    // The browser's settings, read (and checked) once at startup, and the
    // dashboard's own product events (feature_used, error_occurred) for the
    // signed-in operator.
    public static IHostApplicationBuilder AddBrowserMonitoring(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => BrowserMonitoringSettings.From(
            builder.Configuration,
            builder.Environment,
            sp.GetRequiredService<ErrorTrackingSettings>(),
            sp.GetRequiredService<ServiceIdentity>(),
            sp.GetRequiredService<IOptions<PostHogOptions>>().Value));
        builder.Services.AddScoped<DashboardAnalytics>();
        return builder;
    }

    // The JSON the page carries for monitoring.js. The default encoder escapes
    // <, > and &, so the text cannot close the <script> element it sits in.
    public static string PageConfigJson(this BrowserMonitoringSettings settings, ClaimsPrincipal? user)
    {
        var operatorId = user?.Identity?.IsAuthenticated == true ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;
        return JsonSerializer.Serialize(new
        {
            sentry = settings.Sentry is { } s
                ? new { dsn = s.Dsn, environment = s.Environment, release = s.Release, tracesSampleRate = s.TracesSampleRate, replaysSessionSampleRate = s.ReplaysSessionSampleRate, replaysOnErrorSampleRate = s.ReplaysOnErrorSampleRate }
                : null,
            posthog = settings.PostHog is { } p
                ? new { key = p.Key, host = p.Host, environment = p.Environment, appVersion = p.AppVersion, sessionRecording = p.SessionRecording, bootstrapFlags = p.BootstrapFlags }
                : null,
            @operator = operatorId is null ? null : new { id = operatorId },
        }, PageJson);
    }
}
