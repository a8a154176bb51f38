using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContentMax.IntegrationTests.Faults;

// A resource with replicas has one instance per replica, each with its own id
// (aggregation-abcd1234), state, health and process.
public static class ResourceInstances
{
    public static bool IsHealthy(ResourceEvent instance) =>
        instance.Snapshot.State?.Text == KnownResourceStates.Running && instance.Snapshot.HealthStatus == HealthStatus.Healthy;

    public static bool HasExited(ResourceEvent instance) =>
        instance.Snapshot.State?.Text is { } state
        && (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished || state == KnownResourceStates.FailedToStart);

    // Waits until at least `count` instances of the resource satisfy `ready`;
    // returns the latest snapshot of every instance.
    public static async Task<List<ResourceEvent>> WaitForInstancesAsync(this DistributedApplication app, string resource, int count,
        Func<ResourceEvent, bool> ready, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var latest = new Dictionary<string, ResourceEvent>();
        try
        {
            await foreach (var update in app.ResourceNotifications.WatchAsync(cancel.Token))
            {
                if (update.Resource.Name != resource) continue;
                latest[update.ResourceId] = update;
                if (latest.Values.Count(ready) >= count) return [.. latest.Values];
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"{resource}: wanted {count} instance(s) ready within {timeout}; saw " +
            string.Join(", ", latest.Values.Select(i => $"{i.ResourceId} {i.Snapshot.State?.Text}/{i.Snapshot.HealthStatus}")));
    }

    public static int ProcessId(ResourceEvent instance)
    {
        var pid = instance.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        return pid is null
            ? throw new InvalidOperationException($"{instance.ResourceId} has no executable.pid; its properties: " +
                string.Join(", ", instance.Snapshot.Properties.Select(p => p.Name)))
            : int.Parse(pid.ToString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    // SIGKILL to the process and everything it started: no shutdown hooks, no
    // acknowledgements, no flushing, as when a machine dies.
    public static void KillTree(int pid)
    {
        foreach (var id in Descendants(pid).Prepend(pid).ToList())
        {
            try
            {
                using var process = Process.GetProcessById(id);
                process.Kill(); // SIGKILL on Unix.
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    public static async Task RestartExitedAsync(this DistributedApplication app, string resource, int count, TimeSpan timeout)
    {
        var exited = (await app.WaitForInstancesAsync(resource, count, HasExited, timeout)).Where(HasExited).ToList();
        foreach (var instance in exited)
        {
            var result = await app.ResourceCommands.ExecuteCommandAsync(instance.ResourceId, KnownResourceCommands.StartCommand);
            Assert.True(result.Success, $"starting {instance.ResourceId} failed: {result.Message}");
        }

        await app.WaitForInstancesAsync(resource, count, IsHealthy, timeout);
    }

    // Stops the resource and waits until it is stopped: Exited or Finished, or
    // its process gone (now and then the orchestrator names a stopped process
    // Unknown). The orchestrator's stop command gives up after about 15 s and
    // reports a failure if the process is still there, although it goes on
    // stopping it; on a loaded machine that happens to a service that does stop.
    // So what counts here is that the process is gone within `timeout`; how
    // long it took and what the orchestrator said are returned for the test's
    // output, with the service's last log lines when the command failed.
    public static async Task<string> StopAsync(this DistributedApplication app, string resource, TimeSpan timeout)
    {
        var pid = app.ResourceNotifications.TryGetCurrentState(resource, out var running)
            && running.Snapshot.Properties.Any(p => p.Name == "executable.pid" && p.Value is not null)
            ? ProcessId(running)
            : (int?)null;
        await using var logs = ResourceLogs.Capture(app, resource);
        var clock = Stopwatch.StartNew();
        var result = await app.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand);
        var command = result.Success ? "succeeded" : $"failed after {clock.Elapsed.TotalSeconds:0.0} s ({result.Message})";
        string LastLogLines() => string.Join('\n', logs.Lines.TakeLast(60));
        await Eventually.UntilAsync(
            () => Task.FromResult((app.ResourceNotifications.TryGetCurrentState(resource, out var now) && HasExited(now))
                || (pid is { } id && !Directory.Exists($"/proc/{id}"))),
            stopped => stopped, timeout,
            _ => $"{resource} (pid {pid}) has not stopped within {timeout}; the stop command {command}; its last log lines:\n{LastLogLines()}");
        app.ResourceNotifications.TryGetCurrentState(resource, out var after);
        return $"{resource} (pid {pid}) stopped in {clock.Elapsed.TotalSeconds:0.0} s; the stop command {command}; the orchestrator's state: {after?.Snapshot.State?.Text}" +
            (result.Success ? "" : $"; its last log lines:\n{LastLogLines()}");
    }

    public static async Task StartAsync(this DistributedApplication app, string resource, TimeSpan timeout)
    {
        var result = await app.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        Assert.True(result.Success, $"starting {resource} failed: {result.Message}");
        await app.WaitForInstancesAsync(resource, 1, IsHealthy, timeout);
    }

    // The process and everything it started, from /proc.
    public static List<int> ProcessTree(int pid) => Descendants(pid).Prepend(pid).ToList();

    private static IEnumerable<int> Descendants(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    children.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
                }
                catch (IOException)
                {
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }

        return children.Concat(children.SelectMany(Descendants));
    }
}
