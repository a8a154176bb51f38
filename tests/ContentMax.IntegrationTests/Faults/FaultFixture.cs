using System.Net.Http.Headers;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults.ApiKeys;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ContentMax.IntegrationTests.Faults;

// An AppHost of the fault tests' own: they stop, kill and restart its servers
// and services, which must not disturb the shared AppHostFixture. It runs the
// scaled-out shape: two ingestion and two aggregation replicas, quorum queues,
// and fast give-up for non-outage failures so the error-queue test is quick.
// The tests in its collection run one after another, each leaving the system
// healthy for the next.
public sealed class FaultFixture : IAsyncLifetime
{
    public const string IngestKey = "fault-ingest-key";
    public const string ReadKey = "fault-read-key";
    public const string AdminKey = "fault-admin-key";
    public const string LimitedKey = "fault-limited-key-77c1";
    public const int LimitedRequestsPerSecond = 20;
    public const int Replicas = 2;

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "contentmax-faults-" + Guid.NewGuid().ToString("N")[..12]);

    public DistributedApplication App { get; private set; } = null!;

    public string DataDirectory => _dataDirectory;

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ContentMax_AppHost>(
        [
            .. LocalAppHostArgs.For(_dataDirectory, IngestKey, ReadKey, AdminKey),
            "ApiKeys:Keys:limited:Role=ingest",
            $"ApiKeys:Keys:limited:Hash={ApiKeyHash.HexOf(LimitedKey)}",
            $"RateLimits:Keys:limited:RequestsPerSecond={LimitedRequestsPerSecond}",
            $"Scale:Ingestion:Replicas={Replicas}",
            $"Scale:Aggregation:Replicas={Replicas}",
            "Messaging:QuorumQueues=true",
            "HealthProbe:Interval=00:00:01",
            "HealthProbe:Timeout=00:00:02",
            "Aggregation:RetryLimit=2",
            "Aggregation:RetryMinInterval=00:00:00.200",
            "Aggregation:RetryMaxInterval=00:00:01",
            "Aggregation:OutageRetryMaxInterval=00:00:02",
            "Alerting:EvaluationInterval=00:00:01",
        ]);

        App = await TestAppHost.StartAsync(builder, waitForServices: false);
        await WaitForAllHealthyAsync(TimeSpan.FromMinutes(3));
    }

    public async Task WaitForAllHealthyAsync(TimeSpan timeout)
    {
        foreach (var server in new[] { "postgres", "cache", "messaging" })
        {
            await App.WaitForInstancesAsync(server, 1, ResourceInstances.IsHealthy, timeout);
        }

        await App.WaitForInstancesAsync("ingestion", Replicas, ResourceInstances.IsHealthy, timeout);
        await App.WaitForInstancesAsync("aggregation", Replicas, ResourceInstances.IsHealthy, timeout);
        await App.WaitForInstancesAsync("health-probe", 1, ResourceInstances.IsHealthy, timeout);
    }

    public HttpClient Client(string service, string? key, TimeSpan? timeout = null) =>
        TestAppHost.Client(App, service, key, timeout ?? TimeSpan.FromSeconds(30));

    public async Task<string> ConnectionStringAsync(string resource) =>
        await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"No connection string for {resource}.");

    public async Task<MetricRows> RowsAsync() => new(await ConnectionStringAsync("metricsdb"));

    // Messages and consumers on a queue; (0, 0) when it does not exist (yet).
    public async Task<(uint Messages, uint Consumers)> QueueAsync(string queue)
    {
        var factory = new ConnectionFactory { Uri = new Uri(await ConnectionStringAsync("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            var ok = await channel.QueueDeclarePassiveAsync(queue);
            return (ok.MessageCount, ok.ConsumerCount);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return (0, 0);
        }
    }

    // A queue's type cannot change: redeclaring a classic queue as quorum fails
    // with PRECONDITION_FAILED, and succeeds only for a quorum queue.
    public async Task<bool> IsQuorumQueueAsync(string queue)
    {
        var factory = new ConnectionFactory { Uri = new Uri(await ConnectionStringAsync("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            return false;
        }
    }

    // Takes away every route into the storage queue, as on a broker the
    // aggregation service has never run against: its exchange (and with it the
    // message exchange's binding to it) and ingestion's own binding. The queue
    // and what it holds stay. Aggregation declares its routes again when it starts.
    public async Task RemoveStorageRoutesAsync()
    {
        var factory = new ConnectionFactory { Uri = new Uri(await ConnectionStringAsync("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeleteAsync(MessagingTopology.MetricsStorageQueue);
        await channel.QueueUnbindAsync(MessagingTopology.MetricsStorageQueue, MessageExchange, "");
    }

    // MassTransit names a message type's exchange after its full name.
    public static readonly string MessageExchange = $"{typeof(MetricsBatchReceived).Namespace}:{nameof(MetricsBatchReceived)}";

    public Task<(uint Messages, uint Consumers)> ErrorQueueAsync() => QueueAsync(MessagingTopology.MetricsStorageQueue + "_error");

    // Empties the error queue, returning how many messages it held.
    public async Task<uint> PurgeErrorQueueAsync()
    {
        var factory = new ConnectionFactory { Uri = new Uri(await ConnectionStringAsync("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return await channel.QueuePurgeAsync(MessagingTopology.MetricsStorageQueue + "_error");
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    public Task DisposeAsync() => TestAppHost.StopAsync(App, _dataDirectory);
}

// Runs after the parallel collections, alone, so its load and its outages
// neither starve nor disturb the shared AppHost's timing-sensitive tests.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "Faults";
}
