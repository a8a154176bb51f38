using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ContentMax.IntegrationTests;

// A real Prometheus, or Alertmanager, as a child process: its own data
// directory and port, the given configuration, stopped by its PID on dispose.
// Installed by scripts/install-local-servers.sh --with-prometheus (or
// --with-alertmanager) when missing.
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/prometheus";
    public const string AlertmanagerExecutable = "/usr/bin/prometheus-alertmanager";

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

    public static Task<PrometheusServer> StartAsync(string configYaml) =>
        StartAsync(Executable, "--with-prometheus", "prometheus.yml", configYaml, (config, directory, port) =>
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=info",
        ]);

    // Alertmanager on its own, without clustering (which would bind a port of its own).
    public static Task<PrometheusServer> StartAlertmanagerAsync(string configYaml) =>
        StartAsync(AlertmanagerExecutable, "--with-alertmanager", "alertmanager.yml", configYaml, (config, directory, port) =>
        [
            $"--config.file={config}",
            $"--storage.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=info",
        ]);

    private static async Task<PrometheusServer> StartAsync(string executable, string installFlag, string configName, string configYaml,
        Func<string, string, int, string[]> arguments)
    {
        LocalInstall.Ensure(executable, installFlag);
        var directory = Path.Combine(Path.GetTempPath(), "contentmax-" + Path.GetFileName(executable) + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, configName);
        await File.WriteAllTextAsync(config, configYaml);
        var port = LocalPorts.Free();
        var start = new ProcessStartInfo(executable, arguments(config, directory, port))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
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
                throw new InvalidOperationException($"{executable} exited with {process.ExitCode}:\n{server.RecentLog}");
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
                throw new TimeoutException($"{executable} was not ready within 30 s:\n{server.RecentLog}");
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
}
