using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.ErrorTracking;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

// What every ContentMax service shares: telemetry, health endpoints, service
// discovery, HTTP resilience, RFC 9457 problem details. A service adds the rest
// it uses in its Program.cs: AddErrorTracking (Sentry), AddProductAnalytics
// (PostHog), AddMessaging (ContentMax.ServiceDefaults.Messaging) and AddCache
// (ContentMax.ServiceDefaults.Cache).
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    // The health-probe's public endpoint: dashboards and uptime monitors poll it
    // as often as probes poll /health, so it is kept out of traces the same way.
    public const string PublicHealthPath = "/api/health";

    public static bool IsHealthPath(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath)
        || (path.StartsWithSegments(PublicHealthPath, out var rest) && !rest.HasValue);

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        Duration.AcceptInSettings();
        // One clock for every service; tests replace it before this runs.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddApiKeyFile();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddContentMaxResilience();
        builder.AddSelfMonitoring();
        OwnerWatch.AddTo(builder.Services);

        // Stopping gives up on hosted services after 10 s (the default is 30):
        // the orchestrator kills a service about 15 s after asking it to stop,
        // and what is cut short is safe to cut (a request without its 202 is
        // retried by its client, an unacknowledged message is redelivered), while
        // the final telemetry export after it is not.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.AddProblemDetails();
        // Long query strings (a 10k-character metric name) reach the handlers and
        // get a 400 that names the parameter, rather than a bare 414 from Kestrel.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestLineSize = 32 * 1024;
            // Names no server software to clients, and saves the bytes on every answer.
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddOpenApi();
        builder.Services.AddRequestTimeouts(options =>
            options.AddPolicy("health", TimeSpan.FromSeconds(5)));
        builder.Services.AddOutputCache(options =>
            options.AddPolicy("health", policy => policy.Expire(TimeSpan.FromSeconds(2))));

        return builder;
    }

    // The names under which the OTLP exporters take their HttpClient from IHttpClientFactory.
    private static readonly string[] OtlpExporterClients = ["OtlpTraceExporter", "OtlpMetricExporter", "OtlpLogExporter"];

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Npgsql logs every command (with its SQL) at Information, and MassTransit
        // every receive; on the hot path that costs more than the work itself.
        // Configuration (Logging:LogLevel:...) can still turn them back up.
        builder.Logging.AddFilter("Npgsql.Command", LogLevel.Warning);
        builder.Logging.AddFilter("MassTransit", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var highVolume = HighVolumeTracing.From(builder.Configuration);
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(ContentMaxTelemetry.MeterName)
                // Retries and timeouts of the resilience pipelines and handlers.
                .AddMeter("Polly"))
            .WithTracing(tracing => tracing
                // Spans follow their parent's decision, so a request left out
                // of traces (HighVolumeTracing) takes its children, the broker
                // message and the consumer with it.
                .SetSampler(new ParentBasedSampler(highVolume.RootSampler()))
                .AddProcessor(new HighVolumeTracing.ErrorKeeper())
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(ContentMaxTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation(options =>
                {
                    // Health probes would drown the real traffic.
                    options.Filter = context => !IsHealthPath(context.Request.Path);
                    options.EnrichWithHttpRequest = highVolume.OnRequest;
                    options.EnrichWithHttpResponse = HighVolumeTracing.OnResponse;
                    options.EnrichWithException = (activity, _) => HighVolumeTracing.KeepSpan(activity);
                })
                // A request whose URL is a secret (a webhook) leaves no span: the span would carry the URL.
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = request => !SecretDestinations.IsSecret(request)));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
            // The exporters retry on their own, and they send the last logs and
            // spans while the container disposes its services, after the
            // resilience pipelines are gone. Through the standard handler those
            // exports failed and were retried until their deadline: every service
            // took 5 s to stop and its shutdown logs were lost.
            foreach (var exporter in OtlpExporterClients)
            {
                builder.Services.AddHttpClient(exporter).WithoutStandardResilience();
            }
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.TryAddSingleton<BackgroundLoops>();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"])
            .AddCheck<BackgroundLoops>(BackgroundLoops.HealthCheckName);
        return builder;
    }

    // Health endpoints exist in every environment: a monitoring product that
    // hides its own health in production is wrong. They are bounded by a
    // request timeout and briefly cached so probes cannot overload a service.
    //
    // hotPaths: middleware that answers its requests in full, problem bodies
    // included (ingestion's fast lane). It runs inside the exception handler
    // and self-monitoring, and ahead of status-code pages, whose per-request
    // state such answers never use.
    public static WebApplication MapDefaultEndpoints(this WebApplication app, Action<IApplicationBuilder>? hotPaths = null)
    {
        app.UseExceptionHandler();
        app.UseSelfMonitoring();
        hotPaths?.Invoke(app);
        app.UseStatusCodePages();
        // Only the health endpoints use request timeouts and the output cache;
        // every other request (tens of thousands a second on ingestion) skips both.
        app.UseWhen(context => IsHealthPath(context.Request.Path), health => health.UseRequestTimeouts().UseOutputCache());

        app.MapHealthChecks(HealthEndpointPath)
            .WithRequestTimeout("health")
            .CacheOutput("health")
            .AllowAnonymous();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") })
            .WithRequestTimeout("health")
            .CacheOutput("health")
            .AllowAnonymous();

        app.MapOpenApi().AllowAnonymous();
        app.MapErrorTrackingDiagnostics();
        return app;
    }
}
