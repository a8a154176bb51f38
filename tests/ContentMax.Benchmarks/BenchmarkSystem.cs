using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ContentMax.Benchmarks;

// --quick: shorter runs and 1M query rows, for trying a change.
// --only=ingestion|queries|explorer|health|client: one group of benchmarks (docs are not rewritten;
// with --write-section, the group's own section of docs/benchmarks.md is). --only=singles: the
// single-metric POSTs of the ingestion group and their baseline alone, to try a change to that path.
public sealed record BenchmarkOptions(TimeSpan BatchedDuration, TimeSpan SingleDuration, long QueryRows, int QueryRepeats, string RepoRoot, string? Only = null)
{
    public bool Runs(string group) => Only is null || Only == group;

    public static BenchmarkOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "ContentMax.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException("Run the benchmark from inside the repository.");
        }

        var only = args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal))?["--only=".Length..];
        return quick
            ? new BenchmarkOptions(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), 1_000_000, 20, root, only)
            : new BenchmarkOptions(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20), 10_000_000, 100, root, only);
    }
}

// The whole system, started by the AppHost in local mode on free ports with a
// data directory of its own.
public sealed class BenchmarkSystem : IAsyncDisposable
{
    public static readonly string[] Services = ["ingestion", "aggregation", "health-probe", "dashboard"];
    public static readonly string[] Servers = ["postgres", "messaging", "cache"];

    private readonly string _dataDirectory;
    private readonly TelemetrySink _telemetry;

    private BenchmarkSystem(DistributedApplication app, string dataDirectory, string metricsDb, TelemetrySink telemetry)
    {
        App = app;
        _dataDirectory = dataDirectory;
        MetricsDb = metricsDb;
        _telemetry = telemetry;
    }

    public DistributedApplication App { get; }

    public string MetricsDb { get; }

    public const string IngestKey = "bench-ingest-key";
    public const string ReadKey = "bench-read-key";

    public static async Task<BenchmarkSystem> StartAsync(BenchmarkOptions options)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "contentmax-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var telemetry = await TelemetrySink.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ContentMax_AppHost>(
        [
            // The services run as they would in production.
            "--environment=Production",
            "Infrastructure:Mode=local",
            $"Infrastructure:DataDirectory={dataDirectory}",
            "Infrastructure:Ports:Postgres=0", "Infrastructure:Ports:Redis=0", "Infrastructure:Ports:RabbitMq=0",
            "Infrastructure:Ports:RabbitMqDistribution=0", "Infrastructure:Ports:Epmd=0",
            $"Parameters:ingest-api-key={IngestKey}", $"Parameters:read-api-key={ReadKey}", "Parameters:admin-api-key=bench-admin-key",
            // Measure the database path, not the cache.
            "Aggregation:QueryCacheTtl=00:00:00",
            "HealthProbe:Interval=00:00:01", "HealthProbe:Timeout=00:00:01",
            // The load generator is one client far busier than any real one:
            // its key's limits are raised so they are checked on every request
            // (that cost is part of the figures) but never reached.
            "RateLimits:Roles:ingest:RequestsPerSecond=10000000", "RateLimits:Roles:ingest:MetricsPerSecond=100000000",
            // The services' own API metrics would land in api_requests and
            // api_response_time, two of the benchmark's names, as points that
            // stand for many requests: stored counts would no longer be the
            // load's, nor the baseline's exact SQL comparable. The client's
            // cost is measured on its own (--only=client).
            "SelfMonitoring:Enabled=false",
        ]);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            project.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
            {
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = telemetry.Endpoint;
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            }));
        }

        // Only problems from the servers and services reach the console: their
        // ordinary logs would cost this process more than the load it generates.
        builder.Services.AddLogging(logging => logging
            .AddFilter("ContentMax.AppHost.Resources", Microsoft.Extensions.Logging.LogLevel.Error)
            .AddFilter("Aspire", Microsoft.Extensions.Logging.LogLevel.Warning)
            .AddFilter("Microsoft", Microsoft.Extensions.Logging.LogLevel.Warning));
        var app = await builder.BuildAsync();
        Console.WriteLine("Starting the AppHost (local mode)...");
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await app.StartAsync(startup.Token);
        foreach (var service in new[] { "ingestion", "aggregation" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(service, startup.Token);
        }

        var metricsDb = await app.GetConnectionStringAsync("metricsdb") ?? throw new InvalidOperationException("No metricsdb connection string.");
        return new BenchmarkSystem(app, dataDirectory, metricsDb, telemetry);
    }

    public Uri Endpoint(string service) => App.GetEndpoint(service, "http");

    // The port the service's own Kestrel listens on. Endpoint() goes through
    // the orchestrator's proxy, a process of its own whose CPU and latency
    // would be charged to no service; load is offered here instead, as a
    // deployment's load balancer would.
    public Uri DirectEndpoint(string service)
    {
        var pid = ProcessId(service) ?? throw new InvalidOperationException($"No process for {service}.");
        foreach (var p in Descendants(pid).Prepend(pid).Where(p => !IsLauncher(p)))
        {
            var urls = File.ReadAllText($"/proc/{p}/environ").Split('\0')
                .FirstOrDefault(v => v.StartsWith("ASPNETCORE_URLS=", StringComparison.Ordinal));
            var http = urls?["ASPNETCORE_URLS=".Length..].Split(';').FirstOrDefault(u => u.StartsWith("http://", StringComparison.Ordinal));
            if (http is not null) return new Uri(http.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        }

        return Endpoint(service);
    }

    public int? ProcessId(string resource) =>
        App.ResourceNotifications.TryGetCurrentState(resource, out var state)
        && state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
        && int.TryParse(pid.ToString(), out var id)
            ? id
            : null;

    // Resident memory of a process and all its descendants, in MiB, leaving out
    // the `dotnet run` launchers Aspire starts services through: they are not
    // part of a deployed service.
    public static double RssMiB(int pid) => Descendants(pid).Prepend(pid).Where(p => !IsLauncher(p)).Sum(p =>
    {
        try
        {
            var line = File.ReadLines($"/proc/{p}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    });

    private static bool IsLauncher(int pid)
    {
        try
        {
            var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return args.Length > 1 && Path.GetFileName(args[0]) == "dotnet" && args[1] == "run";
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static IEnumerable<int> Descendants(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var text = File.ReadAllText(Path.Combine(task, "children"));
                children.AddRange(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return children.Concat(children.SelectMany(Descendants));
    }

    // CPU seconds (user + system) used so far by a process and its descendants.
    // With descendants, the CPU of those that have exited counts too (their
    // parent's cutime and cstime): PostgreSQL's backends come and go, and
    // without it a phase could show the server using less than nothing.
    public static double CpuSeconds(int pid, bool withDescendants = true) => (withDescendants ? Descendants(pid).Prepend(pid) : [pid]).Sum(p =>
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{p}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var own = double.Parse(fields[11]) + double.Parse(fields[12]);
            var exitedChildren = withDescendants ? double.Parse(fields[13]) + double.Parse(fields[14]) : 0;
            return (own + exitedChildren) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    });

    public Dictionary<string, double> CpuSnapshot()
    {
        var snapshot = new Dictionary<string, double>();
        foreach (var resource in Services.Concat(Servers))
        {
            if (ProcessId(resource) is { } pid) snapshot[resource] = CpuSeconds(pid);
        }

        // The load generator shares its process with the in-process AppHost.
        snapshot["load generator and AppHost"] = CpuSeconds(Environment.ProcessId, withDescendants: false);
        return snapshot;
    }

    // "postgres 70.0 s, ingestion 29.9 s, ...": the CPU each process used
    // since an earlier snapshot, busiest first.
    public string CpuUsedSince(Dictionary<string, double> before) => string.Join(", ", CpuSnapshot()
        .Where(kv => before.ContainsKey(kv.Key))
        .Select(kv => (kv.Key, Seconds: kv.Value - before[kv.Key]))
        .OrderByDescending(x => x.Seconds)
        .Select(x => $"{x.Key} {x.Seconds:0.0} s"));

    // Freezes (SIGSTOP) or thaws (SIGCONT) a server and everything under it,
    // which looks to its clients like a hung dependency.
    public void Signal(string resource, string signal)
    {
        var pid = ProcessId(resource) ?? throw new InvalidOperationException($"No process for {resource}.");
        foreach (var p in Descendants(pid).Prepend(pid))
        {
            using var kill = Process.Start("kill", [$"-{signal}", p.ToString()]);
            kill.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await _telemetry.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
