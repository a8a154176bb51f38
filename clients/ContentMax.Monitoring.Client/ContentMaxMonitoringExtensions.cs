using ContentMax.Monitoring.Client;
using ContentMax.Monitoring.Client.Aggregation;
using ContentMax.Monitoring.Client.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

// Beside AddServiceDefaults, so builder.AddContentMaxMonitoring() needs no using.
namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the ContentMax Monitoring client.</summary>
public static class ContentMaxMonitoringExtensions
{
    /// <summary>
    /// Adds the ContentMax Monitoring client, configured from the
    /// <c>ContentMaxMonitoring</c> section: <see cref="IMetricsPublisher"/> for the
    /// service's own metrics, the aggregation behind it, and a hosted service
    /// that flushes every FlushInterval and delivers the points. Add
    /// <c>app.UseContentMaxMonitoring()</c> for request metrics. A missing
    /// Endpoint (or any other invalid setting) stops startup with the setting named.
    /// </summary>
    /// <param name="builder">The host's builder.</param>
    /// <returns>A builder for further transports.</returns>
    public static IContentMaxMonitoringBuilder AddContentMaxMonitoring(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ContentMaxMonitoringOptions.SectionName);
        var monitoring = new ContentMaxMonitoringBuilder(builder.Services, section);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(MetricAggregator))) return monitoring;

        var applicationName = builder.Environment.ApplicationName;
        services.AddOptions<ContentMaxMonitoringOptions>()
            .Configure(options => ContentMaxMonitoringOptionsBinding.Bind(section, options))
            .PostConfigure(options => options.ServiceName ??= applicationName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ContentMaxMonitoringOptions>, ContentMaxMonitoringOptionsValidator>());

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ClientMetrics>();
        services.TryAddSingleton(sp => new PointBuffer(Options(sp).MaxBufferedPoints));
        services.TryAddSingleton(sp => new MetricAggregator(Options(sp), sp.GetRequiredService<PointBuffer>(),
            sp.GetRequiredService<ClientMetrics>(), sp.GetRequiredService<Logging.ILogger<MetricAggregator>>()));
        services.TryAddSingleton<IMetricsPublisher>(sp => new MetricsPublisher(sp.GetRequiredService<MetricAggregator>(), Options(sp)));
        services.TryAddSingleton(sp => new ContentMax.Monitoring.Client.AspNetCore.RequestMetrics(sp.GetRequiredService<MetricAggregator>(), Options(sp)));

        AddHttpTransport(services, section);

        var enabled = section[nameof(ContentMaxMonitoringOptions.Enabled)] is not { } text || !bool.TryParse(text, out var on) || on;
        if (enabled)
        {
            services.AddSingleton(sp => new MetricsDelivery(
                sp.GetRequiredService<MetricAggregator>(),
                sp.GetRequiredService<PointBuffer>(),
                sp.GetRequiredKeyedService<IMetricsTransport>(Options(sp).Transport),
                sp.GetRequiredService<ClientMetrics>(),
                sp.GetRequiredService<IOptions<ContentMaxMonitoringOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<Logging.ILogger<MetricsDelivery>>()));
            services.AddHostedService(sp => sp.GetRequiredService<MetricsDelivery>());
        }

        return monitoring;
    }

    private static ContentMaxMonitoringOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ContentMaxMonitoringOptions>>().Value;

    // The named client behind the http transport. Brief network faults are
    // retried in place by the standard resilience handler (settings under
    // ContentMaxMonitoring:Resilience, telemetry on); waiting out an outage
    // (429/503 with Retry-After, minutes of downtime) is the sender loop's job,
    // so the handler leaves those answers to it. A handler the service's
    // defaults put on every client is replaced rather than stacked: two
    // pipelines would multiply the attempts and hold batches for their 30 s budget.
    private static void AddHttpTransport(IServiceCollection services, IConfigurationSection section)
    {
        services.AddKeyedSingleton<IMetricsTransport, HttpMetricsTransport>(ContentMaxMonitoringOptions.HttpTransport);
        // RemoveAllResilienceHandlers is marked for evaluation (EXTEXP0001); it is
        // the library's own way to replace a handler the defaults added.
#pragma warning disable EXTEXP0001
        var resilience = services.AddHttpClient(HttpMetricsTransport.ClientName, (sp, http) =>
            {
                var options = Options(sp);
                if (options.Endpoint is { } endpoint)
                {
                    // A base path (http://host/monitoring) is kept: "api/metrics" is appended to it.
                    http.BaseAddress = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
                }

                // The resilience handler and the sender's RequestTimeout bound each attempt.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(resilience =>
            {
                resilience.Retry.MaxRetryAttempts = 2;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(200);
                resilience.Retry.ShouldRetryAfterHeader = false;
                resilience.Retry.ShouldHandle = args => ValueTask.FromResult(
                    HttpClientResiliencePredicates.IsTransient(args.Outcome)
                    && args.Outcome.Result?.StatusCode is not (System.Net.HttpStatusCode.TooManyRequests or System.Net.HttpStatusCode.ServiceUnavailable));
            })
            .Configure((resilience, sp) =>
            {
                // One attempt may take RequestTimeout, and so may all of them together.
                var timeout = Options(sp).RequestTimeout;
                resilience.AttemptTimeout.Timeout = timeout;
                resilience.TotalRequestTimeout.Timeout = timeout;
                if (resilience.CircuitBreaker.SamplingDuration < 2 * timeout) resilience.CircuitBreaker.SamplingDuration = 2 * timeout;
            });
#pragma warning restore EXTEXP0001
        if (section.GetSection("Resilience").Exists()) resilience.Configure(section.GetSection("Resilience"));
    }
}
