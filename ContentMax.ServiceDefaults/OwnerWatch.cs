using System.Diagnostics;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.ServiceDefaults;

// A service started by the AppHost stops when the AppHost is gone, however it
// ended (kill -9 included), rather than running on, holding its port, with
// nobody to stop it. The AppHost passes its pid as CONTENTMAX_APPHOST_PID; a
// service started any other way has none and is not watched.
public sealed class OwnerWatch(
    IHostApplicationLifetime lifetime, TimeProvider time, BackgroundLoops loops, ILogger<OwnerWatch> logger, ErrorReporter? errors = null) : BackgroundService
{
    public const string OwnerPidVariable = "CONTENTMAX_APPHOST_PID";

    public static void AddTo(IServiceCollection services)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(OwnerPidVariable), out _)) services.AddHostedService<OwnerWatch>();
    }

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var owner = int.Parse(Environment.GetEnvironmentVariable(OwnerPidVariable)!);
        return BackgroundLoop.RunAsync("owner-watch", _ =>
        {
            if (IsAlive(owner)) return Task.FromResult(Interval);
            logger.LogWarning("The AppHost (pid {Pid}) is gone: stopping.", owner);
            lifetime.StopApplication();
            return Task.FromResult(BackgroundLoop.Done);
        }, logger, errors, time, stoppingToken, loops);
    }

    public static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // Alive, and not a zombie waiting to be reaped.
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z') is false;
            }
            catch (IOException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
