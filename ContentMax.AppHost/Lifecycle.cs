using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.AppHost;

// However the AppHost ends (Ctrl+C, SIGTERM, kill -9, a service failing its
// startup), nothing it started outlives it, and a failure says why.
//
// - Every process it starts learns the AppHost's pid (CONTENTMAX_APPHOST_PID):
//   the local servers' scripts and the services stop themselves once it is gone.
// - A resource that exits with an error before it was ever healthy stops the
//   whole app, with its last log lines on the console, rather than leaving the
//   others waiting for it forever.
// - Once asked to stop, the AppHost ends within StopTimeout even if a part of
//   the shutdown hangs; a second Ctrl+C ends it at once.
public static class Lifecycle
{
    public const string OwnerPidVariable = "CONTENTMAX_APPHOST_PID";
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(45);

    public static IDistributedApplicationBuilder AddLifecycleGuards(this IDistributedApplicationBuilder builder)
    {
        // Only when the AppHost is its own process: under the testing builder it
        // lives inside the test runner, which must never be ended by it.
        if (System.Reflection.Assembly.GetEntryAssembly() == typeof(Lifecycle).Assembly) StopDeadline.Arm();

        builder.Services.AddSingleton<StartupFailureWatch>();
        // Both run from before the first resource starts: the host's own start
        // (and its hosted services) waits for every resource, so a part that never
        // becomes ready would keep them from ever running.
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            foreach (var resource in e.Model.Resources.Where(r => r is ProjectResource or ExecutableResource))
            {
                resource.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
                    context.EnvironmentVariables[OwnerPidVariable] = Environment.ProcessId.ToString()));
            }

            e.Services.GetRequiredService<StartupFailureWatch>().Start();
            return Task.CompletedTask;
        });
        return builder;
    }
}

// Stops the app when a resource exits with an error before it was ever healthy.
// It says why: the resource's error output (an unhandled exception's message
// goes there) and its last lines, which are often only the shutdown that followed.
internal sealed class StartupFailureWatch(
    ResourceNotificationService notifications,
    ResourceLoggerService resourceLogs,
    IHostApplicationLifetime lifetime,
    ILogger<StartupFailureWatch> logger)
{
    private readonly ConcurrentDictionary<string, Tail> _tails = new();
    private readonly HashSet<string> _healthy = [];

    public void Start() => _ = Task.Run(() => WatchAsync(lifetime.ApplicationStopping));

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WatchResourcesAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Watching the resources for startup failures stopped.");
        }
    }

    private async Task WatchResourcesAsync(CancellationToken stoppingToken)
    {
        await foreach (var update in notifications.WatchAsync(stoppingToken))
        {
            if (update.Resource is not (ProjectResource or ExecutableResource)) continue;
            var id = update.ResourceId;
            if (!_tails.ContainsKey(id) && _tails.TryAdd(id, new Tail()))
            {
                _ = TailAsync(id, stoppingToken);
            }

            var snapshot = update.Snapshot;
            if (snapshot.HealthStatus == HealthStatus.Healthy) _healthy.Add(id);

            var state = snapshot.State?.Text;
            logger.LogDebug("{Resource}: {State}, exit code {ExitCode}, health {Health}", id, state, snapshot.ExitCode, snapshot.HealthStatus);
            var failed = state == KnownResourceStates.FailedToStart
                || ((state == KnownResourceStates.Exited || state == KnownResourceStates.Finished) && snapshot.ExitCode is { } code && code != 0);
            if (!failed || _healthy.Contains(id) || lifetime.ApplicationStopping.IsCancellationRequested) continue;

            // Its last lines may still be on their way.
            await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken);
            var (errors, last) = _tails[id].Snapshot();
            logger.LogCritical(
                "{Resource} {What} before it was ever healthy, so ContentMax is stopping.{NewLine}Its errors:{NewLine}{Errors}{NewLine}Its last log lines:{NewLine}{Lines}",
                id, snapshot.ExitCode is { } exit ? $"exited with code {exit}" : "failed to start",
                Environment.NewLine, Environment.NewLine, Indent(errors), Environment.NewLine, Environment.NewLine, Indent(last));
            Environment.ExitCode = 1;
            lifetime.StopApplication();
            return;
        }
    }

    private static string Indent(string[] lines) => lines.Length == 0 ? "    (none)" : string.Join(Environment.NewLine, lines.Select(l => "    " + l));

    private async Task TailAsync(string resourceId, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in resourceLogs.WatchAsync(resourceId).WithCancellation(cancellationToken))
            {
                _tails[resourceId].Add(batch);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

internal sealed class Tail
{
    private const int Keep = 15;
    private readonly Queue<string> _errors = new();
    private readonly Queue<string> _last = new();

    public void Add(IReadOnlyList<LogLine> lines)
    {
        lock (this)
        {
            foreach (var line in lines)
            {
                var text = Plain(line.Content);
                // Stack frames would crowd out the messages that say what went wrong.
                if (text.TrimStart().StartsWith("at ", StringComparison.Ordinal) || text.Contains("--- End of", StringComparison.Ordinal)) continue;
                Push(_last, text);
                if (line.IsErrorMessage || text.Contains("fail:", StringComparison.Ordinal) || text.Contains("crit:", StringComparison.Ordinal)) Push(_errors, text);
            }
        }
    }

    public (string[] Errors, string[] Last) Snapshot()
    {
        lock (this) return ([.. _errors], [.. _last]);
    }

    private static void Push(Queue<string> queue, string line)
    {
        queue.Enqueue(line);
        if (queue.Count > Keep) queue.Dequeue();
    }

    // Without the timestamp the orchestrator adds and the console's colours.
    private static string Plain(string line)
    {
        line = System.Text.RegularExpressions.Regex.Replace(line, @"\x1B\[[0-9;]*m", "");
        return line.Length > 29 && line[4] == '-' && line[10] == 'T' && line.IndexOf('Z', 19) is > 0 and < 30 and var z ? line[(z + 1)..].TrimStart() : line;
    }
}

// Ends the AppHost within Lifecycle.StopTimeout of being asked to stop, or at
// once when asked again (a second Ctrl+C). Armed before anything starts: a stop
// asked for while a part is still starting, or failing to, must end it too. The
// processes it started then stop themselves, as they do when it is killed.
internal static class StopDeadline
{
    private static readonly List<PosixSignalRegistration> Signals = [];
    private static int _signalled;

    public static void Arm()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            Signals.Add(PosixSignalRegistration.Create(signal, _ =>
            {
                if (Interlocked.Increment(ref _signalled) > 1)
                {
                    Console.Error.WriteLine("Asked to stop again: ending now; the servers and services stop themselves.");
                    End();
                }

                Console.Error.WriteLine($"Stopping (at most {Lifecycle.StopTimeout.TotalSeconds:0} s; Ctrl+C again ends it now).");
                new Thread(() =>
                {
                    Thread.Sleep(Lifecycle.StopTimeout);
                    Console.Error.WriteLine($"Still stopping after {Lifecycle.StopTimeout.TotalSeconds:0} s: ending now; the servers and services stop themselves.");
                    End();
                }) { IsBackground = true, Name = "stop deadline" }.Start();
            }));
        }
    }

    private static void End()
    {
        Console.Out.Flush();
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
    }
}
