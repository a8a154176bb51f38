using System.Net.Http.Headers;

namespace ContentMax.IntegrationTests;

// What the test fixtures that run an AppHost of their own share: starting it
// (several start at once on two busy cores, hence the generous limit), a client
// for one of its services, and stopping it with its data directory.
public static class TestAppHost
{
    public static readonly string[] Services = ["ingestion", "aggregation", "health-probe", "dashboard"];

    // Built and started; with waitForServices, returns once every service is healthy.
    public static async Task<DistributedApplication> StartAsync(IDistributedApplicationTestingBuilder builder, bool waitForServices = true)
    {
        var app = await builder.BuildAsync();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        await app.StartAsync(startup.Token);
        if (waitForServices)
        {
            foreach (var service in Services) await app.ResourceNotifications.WaitForResourceHealthyAsync(service, startup.Token);
        }

        return app;
    }

    public static HttpClient Client(DistributedApplication app, string service, string? key, TimeSpan? timeout = null)
    {
        var client = app.CreateHttpClient(service, "http");
        if (timeout is { } limit) client.Timeout = limit;
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public static async Task StopAsync(DistributedApplication app, params string[] directories)
    {
        await app.StopAsync();
        await app.DisposeAsync();
        foreach (var directory in directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A server may still be flushing; the directory is under /tmp.
            }
        }
    }
}
