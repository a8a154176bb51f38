using ContentMax.HealthProbe.Checks;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ContentMax.HealthProbe;

public static class HealthProbeServiceExtensions
{
    public static IHostApplicationBuilder AddHealthProbes(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthProbeOptions>()
            .BindConfiguration(HealthProbeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // The probe's own HTTP client: no standard resilience (its retries and
        // timeouts would blur what a single attempt saw); the check's timeout rules.
        builder.Services.AddHttpClient(HttpTargetCheck.HttpClientName, client => client.Timeout = System.Threading.Timeout.InfiniteTimeSpan)
            .WithoutStandardResilience();

        builder.Services.AddSingleton<DatabaseCheck>();
        builder.Services.AddSingleton<CacheCheck>();
        builder.Services.AddSingleton<MessagingCheck>();
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<HealthProbeOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>();
            var services = options.Services.Select(s =>
                (IHealthProbeCheck)new HttpTargetCheck(http, $"service:{s}", CheckGroups.Services, HttpMethod.Get, new Uri($"http://{s}/health"), 200));
            var external = options.External.Select(t =>
                (IHealthProbeCheck)new HttpTargetCheck(http, $"external:{t.Name}", CheckGroups.External, new HttpMethod(t.Method.ToUpperInvariant()), t.Url!,
                    t.ExpectedStatus, t.Timeout));
            return new ProbeCatalog([sp.GetRequiredService<DatabaseCheck>(), sp.GetRequiredService<CacheCheck>(), sp.GetRequiredService<MessagingCheck>(),
                .. services, .. external]);
        });
        builder.Services.AddSingleton<HealthState>();
        builder.Services.AddSingleton<HealthHistoryStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HealthHistoryStore>());
        builder.Services.AddHostedService<HealthProber>();
        builder.Services.AddHostedService<HealthHistoryRetention>();

        // This service's own /health says whether the process runs, not whether
        // what it probes is up: that is /api/health's job. Otherwise stopping
        // Postgres would make Aspire call the probe itself unhealthy. The client
        // libraries' checks are off already; MassTransit's bus check (and any
        // other) is removed here, after everything has registered. Kept: whether
        // this process's own loops still cycle (BackgroundLoops).
        builder.Services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations.Where(r => r.Name is not ("self" or BackgroundLoops.HealthCheckName)).ToList())
            {
                options.Registrations.Remove(registration);
            }
        });
        return builder;
    }
}
