using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults.Analytics;

// PostHog for every service, wired once from AddServiceDefaults. Inject
// ProductAnalytics to capture events or read feature flags. Without a project
// API key the service runs exactly as before, after one warning.
public static class ProductAnalyticsExtensions
{
    public static TBuilder AddProductAnalytics<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PostHogOptions>().BindConfiguration(PostHogOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostHogOptions>, PostHogOptionsValidator>());
        builder.Services.TryAddSingleton(ServiceIdentity.Resolve(builder.Configuration, builder.Environment));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();

        builder.Services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PostHogOptions>>().Value);
        builder.Services.TryAddSingleton<PostHogMetrics>();
        builder.Services.TryAddSingleton(sp => PostHogApi.Create(sp.GetRequiredService<PostHogOptions>()));
        builder.Services.TryAddSingleton<PostHogFeatureFlags>();

        var enabled = !string.IsNullOrWhiteSpace(builder.Configuration[$"{PostHogOptions.SectionName}:ProjectApiKey"]);
        if (enabled)
        {
            builder.Services.TryAddSingleton<PostHogBatcher>();
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
