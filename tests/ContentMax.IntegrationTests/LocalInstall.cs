using System.Diagnostics;

namespace ContentMax.IntegrationTests;

// What a test runs that a fresh machine may not have yet (Redis, Chromium,
// Prometheus...) is installed by the project's own script, as a developer would
// install it. The script lets one install run at a time, so tests starting
// together wait for each other rather than fail on apt's lock.
public static class LocalInstall
{
    private static readonly string Script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scripts", "install-local-servers.sh"));

    // Runs the script with the given option (none: the local servers) unless the executable is there.
    public static void Ensure(string executable, string? option = null)
    {
        if (Installed(executable)) return;
        using var install = Process.Start(new ProcessStartInfo("bash", option is null ? [Script] : [Script, option]) { UseShellExecute = false })!;
        install.WaitForExit();
        if (!Installed(executable))
        {
            throw new InvalidOperationException($"{executable} is not installed and {Script} {option} could not install it (exit code {install.ExitCode}).");
        }
    }

    private static bool Installed(string executable) =>
        Path.IsPathRooted(executable)
            ? File.Exists(executable)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, executable)));
}
