using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.AppHost.LocalServers;

// PostgreSQL, Redis and RabbitMQ as private local processes, for machines with
// no container runtime. Each server gets its own folder under
// Infrastructure:DataDirectory (kept across runs), its own loopback ports, a
// password generated once per data directory, and a readiness health check.
public static class LocalInfrastructure
{
    public static ContentMaxInfrastructure AddLocalInfrastructure(this IDistributedApplicationBuilder builder)
    {
        LocalServerInstaller.EnsureInstalled(builder.AppHostDirectory);

        var config = builder.Configuration;
        var dataDirectory = Path.GetFullPath(config["Infrastructure:DataDirectory"] is { Length: > 0 } configured
            ? Path.Combine(builder.AppHostDirectory, configured)
            : Path.Combine(builder.AppHostDirectory, "..", ".data"));
        Directory.CreateDirectory(dataDirectory);
        var secrets = new LocalSecrets(Path.Combine(dataDirectory, "secrets"));
        var scripts = Path.Combine(builder.AppHostDirectory, "LocalServers");

        int Port(string name, int fallback) => LocalServerPorts.Resolve(name, config.GetValue<int?>($"Infrastructure:Ports:{name}") ?? fallback);

        // PostgreSQL, database metricsdb.
        var pgPort = Port("Postgres", 5190);
        var pgPasswordFile = secrets.PathFor("postgres");
        var postgres = builder.AddResource(new LocalPostgresServerResource("postgres", "bash", scripts, pgPort, secrets.Read("postgres")))
            .WithArgs(Path.Combine(scripts, "run-postgres.sh"), Path.Combine(dataDirectory, "postgres"), pgPort.ToString(), pgPasswordFile)
            .WithEndpoint(port: pgPort, targetPort: pgPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck("postgres-ready");
        builder.Services.AddHealthChecks().AddNpgSql(
            $"Host=127.0.0.1;Port={pgPort};Username=postgres;Password={secrets.Read("postgres")};Database=postgres;Timeout=3;Pooling=false",
            name: "postgres-ready");

        var metricsDb = builder.AddResource(new LocalPostgresDatabaseResource("metricsdb", "metricsdb", postgres.Resource))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [],
            });
        builder.Eventing.Subscribe<ResourceReadyEvent>(postgres.Resource, async (e, ct) =>
        {
            // The database itself is created by the schema step; the resource is
            // ready as soon as its server accepts connections.
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            await notifications.PublishUpdateAsync(metricsDb.Resource, s => s with { State = KnownResourceStates.Running });
        });

        // Redis.
        var redisPort = Port("Redis", 5191);
        var cache = builder.AddResource(new LocalRedisResource("cache", "bash", scripts, redisPort, secrets.Read("redis")))
            .WithArgs(Path.Combine(scripts, "run-redis.sh"), Path.Combine(dataDirectory, "redis"), redisPort.ToString(), secrets.PathFor("redis"))
            .WithEndpoint(port: redisPort, targetPort: redisPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck("cache-ready");
        builder.Services.AddHealthChecks().AddRedis(
            $"127.0.0.1:{redisPort},password={secrets.Read("redis")},connectTimeout=3000,abortConnect=false", name: "cache-ready");

        // RabbitMQ, with its own epmd so no Erlang daemon outlives the app.
        var amqpPort = Port("RabbitMq", 5192);
        var distPort = Port("RabbitMqDistribution", 5193);
        var epmdPort = Port("Epmd", 5194);
        var epmd = builder.AddExecutable("messaging-epmd", "bash", dataDirectory, Path.Combine(scripts, "run-epmd.sh"), epmdPort.ToString())
            .WithEndpoint(port: epmdPort, targetPort: epmdPort, scheme: "tcp", name: "epmd", isProxied: false);
        var messaging = builder.AddResource(new LocalRabbitMqResource("messaging", "bash", scripts, amqpPort, secrets.Read("rabbitmq")))
            .WithArgs(Path.Combine(scripts, "run-rabbitmq.sh"), Path.Combine(dataDirectory, "rabbitmq"),
                amqpPort.ToString(), distPort.ToString(), epmdPort.ToString(), secrets.PathFor("rabbitmq"))
            .WithEndpoint(port: amqpPort, targetPort: amqpPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithEndpoint(port: distPort, targetPort: distPort, scheme: "tcp", name: "distribution", isProxied: false)
            .WithHealthCheck("messaging-ready")
            .WaitFor(epmd);
        builder.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            "messaging-ready",
            _ => new AmqpConnectionHealthCheck($"amqp://contentmax:{secrets.Read("rabbitmq")}@127.0.0.1:{amqpPort}"),
            failureStatus: null,
            tags: null));

        return new ContentMaxInfrastructure(InfrastructureMode.Local, metricsDb, cache, messaging);
    }
}

// One random password per server, generated on first use and kept in the data
// directory, so servers initialised with it keep working across runs. The
// folder is created 0700 and each file 0600 as it is created: there is no
// moment at which another user could open them.
internal sealed class LocalSecrets(string directory)
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string PathFor(string name)
    {
        var path = Path.Combine(directory, name + ".password");
        if (File.Exists(path)) return path;

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, OwnerOnlyFolder);
            // A folder from an older version may be wider: narrow it before writing into it.
            File.SetUnixFileMode(directory, OwnerOnlyFolder);
        }

        var secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18)).ToLowerInvariant();
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnlyFile;
            using var file = new StreamWriter(path, System.Text.Encoding.ASCII, options);
            file.Write(secret);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another AppHost on the same data directory wrote it first: theirs stands.
        }

        return path;
    }

    public string Read(string name) => File.ReadAllText(PathFor(name)).Trim();
}
