using Microsoft.Extensions.Options;

namespace ContentMax.Dashboard;

// Security headers on every dashboard response, with a Content-Security-Policy
// that allows exactly what the page needs:
// - scripts only from the dashboard itself (Blazor, Radzen and the bundled
//   monitoring.js; no inline script, no eval, no CDN);
// - inline styles, which Blazor's reconnect UI and Radzen's charts set;
// - connections to itself (Blazor's WebSocket) and to the configured Sentry
//   and PostHog hosts, computed from their settings;
// - with the ContentMax browser snippet on (Dashboard:BrowserMetrics), the
//   ingestion origin as a source of <script> elements (script-src-elem, so
//   script-src itself stays 'self') and of connections (its beacons);
// - workers from blob: URLs, which Sentry's replay uses to compress recordings;
// - never framed (frame-ancestors 'none', and X-Frame-Options for old browsers).
// With Sentry configured, browsers report violations to it (report-uri), with
// the start of a blocked inline script ('report-sample'), so a page broken by
// the policy shows up as a Sentry issue instead of going unnoticed.
public static class SecurityHeaders
{
    public const string PermissionsPolicy =
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    public static string ContentSecurityPolicy(IEnumerable<string> connectOrigins, string? reportUrl = null, IReadOnlyList<string>? scriptOrigins = null)
    {
        var scriptSources = reportUrl is null ? "'self'" : "'self' 'report-sample'";
        List<string> directives =
        [
            "default-src 'self'",
            "script-src " + scriptSources,
        ];
        if (scriptOrigins is { Count: > 0 })
        {
            // Replaces script-src for <script> elements only: the one way those origins load code.
            directives.Add(string.Join(' ', ["script-src-elem", scriptSources, .. scriptOrigins]));
        }

        directives.AddRange(
        [
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            string.Join(' ', ["connect-src", "'self'", .. connectOrigins, .. scriptOrigins ?? []]),
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]);
        if (reportUrl is not null)
        {
            directives.Add("report-uri " + reportUrl);
        }

        return string.Join("; ", directives);
    }

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        var monitoring = app.ApplicationServices.GetRequiredService<BrowserMonitoringSettings>();
        var browserMetrics = app.ApplicationServices.GetRequiredService<IOptions<DashboardOptions>>().Value.BrowserMetrics;
        var policy = ContentSecurityPolicy(
            monitoring.ConnectOrigins,
            monitoring.Sentry?.SecurityReportUrl,
            browserMetrics.Origin is { } ingestion ? [ingestion] : null);
        return app.Use(async (context, next) =>
        {
            // Set when the response starts, so error pages and redirects carry them too.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = policy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Permissions-Policy"] = PermissionsPolicy;
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                return Task.CompletedTask;
            });
            await next(context);
        });
    }
}
