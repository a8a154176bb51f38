using ContentMax.AppHost.LocalServers;

namespace ContentMax.AppHost;

// PostgreSQL (database metricsdb), Redis (cache) and RabbitMQ (messaging), as
// containers or as local processes. The services see the same resource names
// and connection strings either way.
public sealed record ContentMaxInfrastructure(
    InfrastructureMode Mode,
    IResourceBuilder<IResourceWithConnectionString> MetricsDb,
    IResourceBuilder<IResourceWithConnectionString> Cache,
    IResourceBuilder<IResourceWithConnectionString> Messaging);

public static class InfrastructureExtensions
{
    public static ContentMaxInfrastructure AddInfrastructure(this IDistributedApplicationBuilder builder)
    {
        var mode = InfrastructureModeResolver.Resolve(builder.Configuration["Infrastructure:Mode"]);
        Console.WriteLine($"ContentMax infrastructure: {mode.ToString().ToLowerInvariant()} " +
            (mode == InfrastructureMode.Local ? "(PostgreSQL, Redis and RabbitMQ as local processes)" : "(PostgreSQL, Redis and RabbitMQ containers)"));

        return mode == InfrastructureMode.Containers ? builder.AddContainerInfrastructure() : builder.AddLocalInfrastructure();
    }

    private static ContentMaxInfrastructure AddContainerInfrastructure(this IDistributedApplicationBuilder builder)
    {
        // The same server settings as LocalServers/run-postgres.sh.
        var postgres = builder.AddPostgres("postgres").WithDataVolume("contentmax-postgres")
            .WithArgs("-c", "max_wal_size=4GB", "-c", "checkpoint_timeout=10min");
        var metricsDb = postgres.AddDatabase("metricsdb");
        var cache = builder.AddRedis("cache").WithDataVolume("contentmax-redis");
        var messaging = builder.AddRabbitMQ("messaging").WithDataVolume("contentmax-rabbitmq");
        return new ContentMaxInfrastructure(InfrastructureMode.Containers, metricsDb, cache, messaging);
    }
}
