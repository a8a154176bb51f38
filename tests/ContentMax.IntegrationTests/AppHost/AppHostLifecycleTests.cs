using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.AppHost;

// Start, stop, start again: however the AppHost ends, nothing it started
// outlives it, and the next start works. These start whole AppHosts of their
// own, so they run alone, after the other collections, rather than beside them.
[Collection(AppHostLifecycleCollection.Name)]
public class AppHostLifecycleTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private readonly string _data = Directory.CreateTempSubdirectory("contentmax-lifecycle-").FullName;

    [Fact]
    public async Task FiveStartAndCtrlCCycles_LeaveNothingRunning_AndEachStartWorks()
    {
        for (var cycle = 1; cycle <= 5; cycle++)
        {
            using var appHost = new AppHostProcess(_data);
            await appHost.WaitUntilUpAsync(StartTimeout);

            appHost.Interrupt();

            Assert.True(await appHost.WaitForExitAsync(StopTimeout), $"cycle {cycle}: the AppHost had not exited {StopTimeout} after Ctrl+C:\n{appHost.Output}\n{appHost.Diagnostics()}");
            await AssertNothingLeftAsync(appHost, $"cycle {cycle}");
            output.WriteLine($"cycle {cycle}: up, stopped, nothing left");
        }
    }

    [Fact]
    public async Task AServiceFailingItsStartup_StopsTheAppHost_WithItsLastLogLines()
    {
        using var appHost = new AppHostProcess(_data, "Alerting:EvaluationInterval=fast");

        Assert.True(await appHost.WaitForExitAsync(StartTimeout), $"the AppHost still runs:\n{appHost.Output}");

        output.WriteLine(appHost.Output);
        Assert.NotEqual(0, appHost.ExitCode);
        Assert.Contains("aggregation", appHost.Output);
        Assert.Contains("before it was ever healthy", appHost.Output);
        Assert.Contains("'fast' is not a duration", appHost.Output);
        await AssertNothingLeftAsync(appHost, "after a failed start");
    }

    [Fact]
    public async Task CtrlCWhileAServiceFailsItsStartup_LeavesNothingRunning()
    {
        using var appHost = new AppHostProcess(_data, "Alerting:EvaluationInterval=fast");
        // The servers are up and the services are starting; aggregation is about to fail.
        await Eventually.UntilAsync(() => Task.FromResult(appHost.Listens("Postgres") && appHost.Listens("RabbitMq")), up => up,
            StartTimeout, _ => appHost.Output);
        Assert.False(appHost.HasExited, appHost.Output);

        appHost.Interrupt();

        Assert.True(await appHost.WaitForExitAsync(StopTimeout), $"the AppHost had not exited {StopTimeout} after Ctrl+C:\n{appHost.Output}\n{appHost.Diagnostics()}");
        await AssertNothingLeftAsync(appHost, "after Ctrl+C during a failing start");
    }

    [Fact]
    public async Task KillMinus9OfTheAppHost_LeavesNothingRunning_AndAFreshStartWorks()
    {
        using (var killed = new AppHostProcess(_data))
        {
            await killed.WaitUntilUpAsync(StartTimeout);

            killed.KillHard();

            Assert.True(await killed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            await AssertNothingLeftAsync(killed, "after kill -9");
        }

        using var fresh = new AppHostProcess(_data);
        await fresh.WaitUntilUpAsync(StartTimeout);
        fresh.Interrupt();
        Assert.True(await fresh.WaitForExitAsync(StopTimeout), $"{fresh.Output}\n{fresh.Diagnostics()}");
        await AssertNothingLeftAsync(fresh, "after the fresh start");
    }

    private static async Task AssertNothingLeftAsync(AppHostProcess appHost, string when)
    {
        var (processes, ports) = await appHost.WaitForNothingLeftAsync(StopTimeout);
        Assert.True(processes.Count == 0 && ports.Count == 0,
            $"{when}: still running: [{string.Join("; ", processes)}]; ports held: [{string.Join(", ", ports)}]\n{appHost.Output}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AppHostLifecycleCollection
{
    public const string Name = "AppHost lifecycle";
}
