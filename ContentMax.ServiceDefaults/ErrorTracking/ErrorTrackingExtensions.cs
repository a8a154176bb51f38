using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sentry;
using Sentry.AspNetCore;
using Sentry.Extensibility;
using Sentry.Extensions.Logging;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// Sentry for every service, wired once from AddServiceDefaults. Without a DSN
// the service runs exactly as before, after one warning.
public static class ErrorTrackingExtensions
{
    public const string DiagnosticsPath = "/api/diagnostics";
    public const string SentryTestPath = "/sentry-test";
    public const string SentryIgnoredTestPath = "/sentry-test/ignored";

    public static TBuilder AddErrorTracking<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var identity = ServiceIdentity.Resolve(builder.Configuration, builder.Environment);
        var settings = ErrorTrackingSettings.From(builder.Configuration, identity);

        builder.Services.TryAddSingleton(identity);
        builder.Services.TryAddSingleton(settings);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(new SensitiveDataRedactor(settings.RedactedFields));
        builder.Services.TryAddSingleton(sp => new ErrorReporter(
            sp.GetService<IHub>() ?? HubAdapter.Instance,
            sp.GetService<IHttpContextAccessor>(),
            sp.GetRequiredService<SensitiveDataRedactor>(),
            sp.GetRequiredService<TimeProvider>()));

        if (!settings.Enabled)
        {
            builder.Services.AddSingleton<IHostedService>(sp => new StartupWarning(
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("ContentMax.ErrorTracking"),
                "Sentry error tracking is disabled: Sentry:Dsn is not set. Give the AppHost Sentry__Dsn " +
                "(environment) or Sentry:Dsn (configuration) to report errors to Sentry."));
            return builder;
        }

        // Events name the request they came from. Only with Sentry on: the
        // accessor costs every request two execution-context changes.
        builder.Services.AddHttpContextAccessor();
        if (builder is WebApplicationBuilder web)
        {
            // Errors from requests (also those the exception handler turned into
            // a 500), request transactions, and error logs as events. Traces
            // still go to the OTel pipeline; Sentry does not replace it.
            web.WebHost.UseSentry();
            builder.Services.AddSingleton<IConfigureOptions<SentryAspNetCoreOptions>, SentryOptionsSetup<SentryAspNetCoreOptions>>();
        }
        else
        {
            // A worker without HTTP: error logs and unhandled exceptions.
            builder.Logging.AddSentry();
            builder.Services.AddSingleton<IConfigureOptions<SentryLoggingOptions>, SentryOptionsSetup<SentryLoggingOptions>>();
        }

        builder.Services.Configure<LoggerFilterOptions>(QuietFrameworkLogsForSentry);
        return builder;
    }

    // The alias Sentry's logger providers share ("Logging:Sentry:LogLevel" in configuration).
    private const string SentryLoggerProvider = "Sentry";

    // Sentry's logger provider comes with a filter rule of its own, and a
    // provider-specific rule wins over the category filters ConfigureOpenTelemetry
    // sets for every provider. Without these rules every request's framework log
    // lines would be formatted into breadcrumbs on the hot path. Warnings and
    // errors still reach Sentry; the exception handler's error log stays out
    // (SentryMiddleware already reports that exception once).
    private static void QuietFrameworkLogsForSentry(LoggerFilterOptions options)
    {
        foreach (var category in new[] { "Microsoft.AspNetCore", "Npgsql.Command", "MassTransit" })
        {
            options.Rules.Add(new LoggerFilterRule(SentryLoggerProvider, category, LogLevel.Warning, filter: null));
        }

        options.Rules.Add(new LoggerFilterRule(SentryLoggerProvider, "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", LogLevel.None, filter: null));
    }

    // POST /api/diagnostics/sentry-test throws an exception Sentry must report;
    // /sentry-test/ignored throws one it must drop. Admin key only, and only in
    // services that authenticate with API keys (ingestion, aggregation, health-probe).
    public static WebApplication MapErrorTrackingDiagnostics(this WebApplication app)
    {
        var schemes = app.Services.GetService<IOptions<AuthenticationOptions>>()?.Value.SchemeMap;
        if (schemes?.ContainsKey(ApiKeyAuthenticationHandler.SchemeName) != true)
        {
            return app;
        }

        var diagnostics = app.MapGroup(DiagnosticsPath)
            .RequireAuthorization(new AuthorizeAttribute(ApiRoles.Admin) { AuthenticationSchemes = ApiKeyAuthenticationHandler.SchemeName })
            .WithTags("Diagnostics");

        diagnostics.MapPost(SentryTestPath, IResult () =>
                throw new SentryTestException("ContentMax Sentry test: this error was raised on purpose by POST /api/diagnostics/sentry-test."))
            .WithName("SentryTest")
            .WithSummary("Raises a test error so that Sentry shows an issue for this service (admin key).")
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        diagnostics.MapPost(SentryIgnoredTestPath, IResult () =>
                throw new ConnectionResetException("ContentMax Sentry test: a client disconnect, which Sentry must not report."))
            .WithName("SentryIgnoredTest")
            .WithSummary("Raises an ignorable client-disconnect error, which must not reach Sentry (admin key).")
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        return app;
    }
}

// Raised only by the diagnostics endpoint, so the issue it creates is easy to
// find and to tell apart from real failures.
public sealed class SentryTestException(string message) : Exception(message);
