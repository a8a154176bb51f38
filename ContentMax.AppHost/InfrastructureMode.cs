using System.Diagnostics;

namespace ContentMax.AppHost;

// Containers when a container runtime answers, local server processes when none
// does. Infrastructure:Mode (auto | containers | local) overrides the probe.
public enum InfrastructureMode
{
    Containers,
    Local,
}

public static class InfrastructureModeResolver
{
    public static InfrastructureMode Resolve(string? configured)
    {
        switch (configured?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                return ContainerRuntimeAnswers() ? InfrastructureMode.Containers : InfrastructureMode.Local;
            case "containers":
                return InfrastructureMode.Containers;
            case "local":
                return InfrastructureMode.Local;
            default:
                throw new DistributedApplicationException(
                    $"Infrastructure:Mode is '{configured}'. Use auto, containers or local.");
        }
    }

    // `docker info` (or `podman info`) exits 0 only when a daemon answers. The
    // CLI alone is not enough: Aspire then reports the runtime as unhealthy and
    // every container resource waits forever.
    private static bool ContainerRuntimeAnswers() => Answers("docker") || Answers("podman");

    private static bool Answers(string cli)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(cli, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null) return false;
            process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(3)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // Not installed.
        }
    }
}
