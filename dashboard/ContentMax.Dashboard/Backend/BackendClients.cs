using ContentMax.Dashboard.Admin;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace ContentMax.Dashboard.Backend;

// The dashboard reads metrics from aggregation and health from health-probe,
// server to server, with the read key. The browser never sees a key.
public static class BackendClientExtensions
{
    public static IHostApplicationBuilder AddBackendClients(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient<MetricsClient>(ConfigureClient("http://aggregation"));
        builder.Services.AddHttpClient<AlertsClient>(ConfigureClient("http://aggregation"));
        builder.Services.AddHttpClient<HealthClient>(ConfigureClient("http://health-probe"));
        // Changes go with the operator's own key, set per request: no default key.
        // A change is never sent twice: the standard pipeline retries only safe methods for it.
        builder.Services.AddHttpClient<AlertAdminClient>(client => client.BaseAddress = new Uri("http://aggregation"));
        builder.Services.Configure<HttpStandardResilienceOptions>(
            nameof(AlertAdminClient) + "-standard", options => options.Retry.DisableForUnsafeHttpMethods());
        return builder;
    }

    private static Action<IServiceProvider, HttpClient> ConfigureClient(string baseAddress) => (services, client) =>
    {
        client.BaseAddress = new Uri(baseAddress);
        var readKey = services.GetRequiredService<IOptions<ApiKeyOptions>>().Value.Read!
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        client.DefaultRequestHeaders.Add("X-Api-Key", readKey);
    };
}
