using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ContentMax.IntegrationTests;

// A real Prometheus as a child process: its own data directory and port, the
// given configuration, stopped by its PID on dispose. Installed by
// scripts/install-local-servers.sh --with-prometheus when missing.
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _log = new();

    private PrometheusServer(Process process, string directory, Uri baseUrl)
    {
        _process = process;
        _directory = directory;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    // The last lines Prometheus logged, for failure messages.
    public string RecentLog => string.Join('\n', _log.TakeLast(30));

    public static async Task<PrometheusServer> StartAsync(string configYaml)
    {
        EnsureInstalled();
        var directory = Path.Combine(Path.GetTempPath(), "contentmax-prometheus-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, configYaml);
        var port = FreePort();
        var start = new ProcessStartInfo(Executable,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=info",
        ])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start.");
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.RecentLog}");
            }

            try
            {
                if ((await http.GetAsync(new Uri(server.BaseUrl, "/-/ready"))).StatusCode == HttpStatusCode.OK) return server;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"prometheus was not ready within 30 s:\n{server.RecentLog}");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Under /tmp; left for the system to clean.
            }
        }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _log.Enqueue(line);
        while (_log.Count > 200) _log.TryDequeue(out _);
    }

    private static void EnsureInstalled()
    {
        if (File.Exists(Executable)) return;
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scripts", "install-local-servers.sh"));
        using var install = Process.Start(new ProcessStartInfo("bash", [script, "--with-prometheus"]) { UseShellExecute = false })!;
        install.WaitForExit();
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"Prometheus is not installed and {script} --with-prometheus could not install it.");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
