using ContentMax.ServiceDefaults.ErrorTracking;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Registry;

namespace ContentMax.ServiceDefaults.Analytics;

// PostHog for every service, wired once from AddServiceDefaults. Inject
// ProductAnalytics to capture events or read feature flags. Without a project
// API key the service runs exactly as before, after one warning.
public static class ProductAnalyticsExtensions
{
    public static TBuilder AddProductAnalytics<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PostHogOptions>().BindConfiguration(PostHogOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(ServiceIdentity.Resolve(builder.Configuration, builder.Environment));
        // Also callable without AddServiceDefaults (tests do): TryAdd keeps the one clock.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();

        builder.Services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PostHogOptions>>().Value);
        builder.Services.TryAddSingleton<PostHogMetrics>();
        builder.Services.TryAddSingleton(sp => PostHogApi.Create(sp.GetRequiredService<PostHogOptions>()));
        builder.Services.TryAddSingleton<PostHogFeatureFlags>();

        var enabled = !string.IsNullOrWhiteSpace(builder.Configuration[$"{PostHogOptions.SectionName}:ProjectApiKey"]);
        if (enabled)
        {
            // Sends through the registered posthog-batch pipeline (telemetry on) when AddServiceDefaults registered it.
            builder.Services.TryAddSingleton(sp =>
            {
                var args = (Options: sp.GetRequiredService<PostHogOptions>(), Api: sp.GetRequiredService<PostHogApi>(), Metrics: sp.GetRequiredService<PostHogMetrics>(),
                    Logger: sp.GetRequiredService<ILogger<PostHogBatcher>>(), Time: sp.GetRequiredService<TimeProvider>());
                return sp.GetService<ResiliencePipelineProvider<string>>() is { } pipelines
                    && pipelines.TryGetPipeline<HttpResponseMessage>(ContentMaxResilience.PostHogBatch, out var delivery)
                    ? new PostHogBatcher(args.Options, args.Api, args.Metrics, args.Logger, args.Time, delivery)
                    : new PostHogBatcher(args.Options, args.Api, args.Metrics, args.Logger, args.Time);
            });
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PostHogBatcher>());
        }
        else
        {
            builder.Services.AddSingleton<IHostedService>(sp => new StartupWarning(
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("ContentMax.Analytics"),
                "PostHog product analytics is disabled: PostHog:ProjectApiKey is not set. Give the AppHost " +
                "PostHog__ProjectApiKey (and PostHog__Host) to send events; feature flags answer with their bootstrap values."));
        }

        builder.Services.TryAddSingleton(sp => new ProductAnalytics(
            sp.GetRequiredService<PostHogOptions>(),
            enabled ? sp.GetRequiredService<PostHogBatcher>() : null,
            sp.GetRequiredService<PostHogFeatureFlags>(),
            sp.GetRequiredService<PostHogMetrics>(),
            sp.GetRequiredService<ServiceIdentity>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ProductAnalytics>>()));
        return builder;
    }
}
