using ContentMax.HealthProbe.Checks;
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
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it is the documented opt-out.
        builder.Services.AddHttpClient(HttpTargetCheck.HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        builder.Services.AddSingleton(TimeProvider.System);
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
                (IHealthProbeCheck)new HttpTargetCheck(http, $"external:{t.Name}", CheckGroups.External, new HttpMethod(t.Method.ToUpperInvariant()), t.Url!, t.ExpectedStatus));
            return new ProbeCatalog([sp.GetRequiredService<DatabaseCheck>(), sp.GetRequiredService<CacheCheck>(), sp.GetRequiredService<MessagingCheck>(), .. services, .. external]);
        });
        builder.Services.AddSingleton<HealthState>();
        builder.Services.AddSingleton<HealthHistoryStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HealthHistoryStore>());
        builder.Services.AddHostedService<HealthProber>();

        // This service's own /health says whether the probe runs, not whether
        // what it probes is up: that is /api/health's job. So the client
        // libraries' and MassTransit's checks stay out of it.
        builder.Services.Configure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations.Where(r => r.Name != "self").ToList())
            {
                options.Registrations.Remove(registration);
            }
        });
        return builder;
    }
}
