using System.Diagnostics;

namespace ContentMax.AppHost.LocalServers;

// Installs PostgreSQL, Redis and RabbitMQ from the distribution's packages when
// the AppHost needs them as local processes and they are missing, so
// `dotnet run` and `dotnet test` work on a fresh Debian/Ubuntu machine.
internal static class LocalServerInstaller
{
    public static bool ServersInstalled() =>
        Directory.Exists("/usr/lib/postgresql") && Directory.EnumerateFiles("/usr/lib/postgresql", "postgres", SearchOption.AllDirectories).Any()
        && OnPath("redis-server")
        && File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server")
        && OnPath("epmd");

    public static void EnsureInstalled(string appHostDirectory)
    {
        if (ServersInstalled()) return;

        var script = Path.GetFullPath(Path.Combine(appHostDirectory, "..", "scripts", "install-local-servers.sh"));
        Console.WriteLine($"ContentMax: PostgreSQL, Redis or RabbitMQ is missing; installing them with {script}");
        using var process = Process.Start(new ProcessStartInfo("bash", [script]) { UseShellExecute = false })
            ?? throw new DistributedApplicationException($"Could not start {script}.");
        process.WaitForExit();
        if (process.ExitCode != 0 || !ServersInstalled())
        {
            throw new DistributedApplicationException(
                $"Installing the local servers failed (exit code {process.ExitCode}). Run {script} as root to see why, " +
                "or set Infrastructure:Mode=containers where a container runtime is available.");
        }
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, command)));
}
