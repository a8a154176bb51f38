using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ContentMax.IntegrationTests.AppHost;

// The AppHost as a developer runs it: its own process, in a session of its own
// (so a signal to its process group is what Ctrl+C in a terminal sends), with
// the Aspire dashboard, local servers in a given data directory, and every
// port free. Everything it starts carries a marker in its environment, so a
// test can find whatever outlived it.
public sealed class AppHostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _orchestratorLogs = Directory.CreateTempSubdirectory("contentmax-dcp-").FullName;

    public string Marker { get; } = Guid.NewGuid().ToString("n");
    public int IngestionPort { get; } = LocalPorts.Free();
    public int DashboardPort { get; } = LocalPorts.Free();
    public IReadOnlyDictionary<string, int> ServerPorts { get; }

    public AppHostProcess(string dataDirectory, params string[] extraSettings)
    {
        ServerPorts = new Dictionary<string, int>
        {
            ["Postgres"] = LocalPorts.Free(), ["Redis"] = LocalPorts.Free(), ["RabbitMq"] = LocalPorts.Free(),
            ["RabbitMqDistribution"] = LocalPorts.Free(), ["Epmd"] = LocalPorts.Free(),
        };
        var appHost = AppContext.BaseDirectory.Replace(Path.Combine("tests", "ContentMax.IntegrationTests"), "ContentMax.AppHost", StringComparison.Ordinal);
        // A terminal's Ctrl+C reaches an AppHost that handles SIGINT. A test run
        // started in the background (`nohup dotnet test &`) ignores SIGINT and
        // SIGQUIT, and a child inherits that: .NET then never sees the signal.
        // `env --default-signal` gives the AppHost the terminal's dispositions.
        var start = new ProcessStartInfo("env", ["--default-signal=INT,QUIT", "setsid", "dotnet", Path.Combine(appHost, "ContentMax.AppHost.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = appHost,
        };
        List<string> settings =
        [
            "Infrastructure:Mode=local",
            $"Infrastructure:DataDirectory={dataDirectory}",
            .. ServerPorts.Select(p => $"Infrastructure:Ports:{p.Key}={p.Value}"),
            $"Services:ingestion:Port={IngestionPort}",
            $"Services:aggregation:Port={LocalPorts.Free()}",
            $"Services:health-probe:Port={LocalPorts.Free()}",
            $"Services:dashboard:Port={DashboardPort}",
            // Each resource's state changes, so a start that never completes says which part it waits on.
            "Logging:LogLevel:ContentMax.AppHost=Debug",
            .. extraSettings,
        ];
        foreach (var setting in settings) start.ArgumentList.Add("--" + setting);
        start.Environment["CONTENTMAX_TEST_MARKER"] = Marker;
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://localhost:{LocalPorts.Free()}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://localhost:{LocalPorts.Free()}";
        start.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://localhost:{LocalPorts.Free()}";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["DCP_DIAGNOSTICS_LOG_LEVEL"] = "debug";
        start.Environment["DCP_DIAGNOSTICS_LOG_FOLDER"] = _orchestratorLogs;
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    // Until ingestion and the dashboard both answer /health.
    public async Task WaitUntilUpAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new Xunit.Sdk.XunitException($"The AppHost exited with {_process.ExitCode}:\n{Output}");
            if (await IsHealthyAsync(http, IngestionPort) && await IsHealthyAsync(http, DashboardPort)) return;
            await Task.Delay(500);
        }

        throw new TimeoutException($"Not up after {timeout}:\n{Output}\n{Diagnostics()}");
    }

    // What runs and what the orchestrator (DCP) last said, for a start that never completes.
    public string Diagnostics()
    {
        var text = new StringBuilder($"Processes: [{string.Join("; ", Leftovers())}]\n");
        foreach (var log in Directory.EnumerateFiles(_orchestratorLogs, "*", SearchOption.AllDirectories))
        {
            try
            {
                var lines = File.ReadAllLines(log);
                text.AppendLine($"{Path.GetFileName(log)} (last {Math.Min(40, lines.Length)} of {lines.Length} lines):");
                foreach (var line in lines.TakeLast(40)) text.AppendLine("    " + line);
            }
            catch (IOException)
            {
            }
        }

        return text.ToString();
    }

    private static async Task<bool> IsHealthyAsync(HttpClient http, int port)
    {
        try
        {
            return (await http.GetAsync($"http://127.0.0.1:{port}/health")).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    // What Ctrl+C in its terminal does: SIGINT to the whole process group.
    public void Interrupt() => Signal("-INT", $"-{_process.Id}");

    public void KillHard() => Signal("-KILL", _process.Id.ToString());

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // Every process still running that this AppHost started, directly or not.
    public IReadOnlyList<string> Leftovers()
    {
        var left = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) continue;
                if (environ.Contains($"CONTENTMAX_TEST_MARKER={Marker}", StringComparison.Ordinal)
                    || environ.Contains($"CONTENTMAX_APPHOST_PID={_process.Id}\0", StringComparison.Ordinal))
                {
                    left.Add($"{pid} {File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ')}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile.
            }
        }

        return left;
    }

    // Waits until nothing of it runs and none of its ports is held.
    public async Task<(IReadOnlyList<string> Processes, IReadOnlyList<string> Ports)> WaitForNothingLeftAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var processes = Leftovers();
            var ports = ServerPorts.Where(p => !LocalPorts.IsFree(p.Value)).Select(p => $"{p.Key} {p.Value}")
                .Concat(new[] { IngestionPort, DashboardPort }.Where(p => !LocalPorts.IsFree(p)).Select(p => $"service {p}")).ToList();
            if ((processes.Count == 0 && ports.Count == 0) || DateTime.UtcNow > deadline) return (processes, ports);
            await Task.Delay(500);
        }
    }

    public bool Listens(string server) => !LocalPorts.IsFree(ServerPorts[server]);


    private static void Signal(string signal, string target)
    {
        using var kill = Process.Start("kill", [signal, "--", target])!;
        kill.WaitForExit();
    }


    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
        try
        {
            Directory.Delete(_orchestratorLogs, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
