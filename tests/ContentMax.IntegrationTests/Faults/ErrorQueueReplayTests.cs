using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ContentMax.Contracts;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

[Collection(FaultCollection.Name)]
public class ErrorQueueReplayTests(FaultFixture fixture, ITestOutputHelper output)
{
    // A broken migration (the metrics table renamed away) is not an outage: the
    // messages are retried briefly, then parked in the error queue with the
    // reason. Once the table is back, replay-errors returns them and every
    // metric is stored exactly once.
    [Fact]
    public async Task MessagesThatFailedWhileTheSchemaWasBroken_AreStoredOnceAfterReplay()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        var rows = await fixture.RowsAsync();
        var name = MetricsApi.UniqueName("replay");
        // Whatever tests before this one left in the error queue (they check it
        // against their own starting count) would be replayed too and change the
        // counts below: it is emptied first, so this test holds in any order.
        var leftOver = await fixture.PurgeErrorQueueAsync();
        output.WriteLine($"{leftOver} message(s) left in the error queue by earlier tests were purged.");
        Assert.Equal(0u, (await fixture.ErrorQueueAsync()).Messages);

        uint faulted;
        await rows.ExecuteAsync("ALTER TABLE metrics RENAME TO metrics_moved_away");
        try
        {
            for (var batch = 0; batch < 3; batch++)
            {
                var metrics = Enumerable.Range(0, 100).Select(i => new { metric = name, value = batch * 100 + i }).ToArray();
                Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsJsonAsync("/api/metrics", metrics)).StatusCode);
            }

            // Anything else still on its way to storage (earlier tests' metrics) fails the same way and is replayed too.
            faulted = (await Eventually.UntilAsync(() => fixture.ErrorQueueAsync(), q => q.Messages >= 3, TimeSpan.FromSeconds(60),
                q => $"{q.Messages} messages in the error queue")).Messages;
            await Task.Delay(TimeSpan.FromSeconds(3));
            faulted = (await fixture.ErrorQueueAsync()).Messages;
            // Messaging:QuorumQueues=true: both queues are quorum queues, or redeclaring them so would fail.
            Assert.True(await fixture.IsQuorumQueueAsync(MessagingTopology.MetricsStorageQueue));
            Assert.True(await fixture.IsQuorumQueueAsync(MessagingTopology.MetricsStorageQueue + "_error"));
            var dryRun = await ReplayAsync("--dry-run");
            output.WriteLine(dryRun.Output);
            Assert.Equal(0, dryRun.ExitCode);
            Assert.Contains($"Dry run: {faulted} message(s) in metrics-storage_error would be replayed", dryRun.Output);
            Assert.Contains("relation \"metrics\" does not exist", dryRun.Output);
            Assert.Equal(faulted, (await fixture.ErrorQueueAsync()).Messages);
        }
        finally
        {
            await rows.ExecuteAsync("ALTER TABLE metrics_moved_away RENAME TO metrics");
        }

        Assert.Equal(0, (await rows.CountAsync(name)).Rows);
        var replay = await ReplayAsync();
        output.WriteLine(replay.Output);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains($"Replayed {faulted} message(s) from metrics-storage_error to metrics-storage.", replay.Output);

        var (stored, distinct) = await rows.WaitForAsync(name, 300, TimeSpan.FromSeconds(30));
        Assert.Equal((300, 300), (stored, distinct));
        Assert.Equal(0u, (await fixture.ErrorQueueAsync()).Messages);

        // Running it again finds nothing to do.
        Assert.Contains("Replayed 0 message(s)", (await ReplayAsync()).Output);
    }

    // The command as an operator runs it against the local broker: the password
    // from the data directory's secrets, the port as an argument.
    private async Task<(int ExitCode, string Output)> ReplayAsync(params string[] extra)
    {
        var port = new Uri(await fixture.ConnectionStringAsync("messaging")).Port;
        // Built beside this assembly's output, under the same configuration (a project reference builds it).
        var tool = Path.Combine(AppContext.BaseDirectory.Replace(Path.Combine("tests", "ContentMax.IntegrationTests"), Path.Combine("tools", "ContentMax.ReplayErrors"),
            StringComparison.Ordinal), "ContentMax.ReplayErrors.dll");
        Assert.True(File.Exists(tool), $"{tool} is not built");
        var start = new ProcessStartInfo("dotnet", [tool, "replay-errors", "--data-dir", fixture.DataDirectory, "--port", port.ToString(), .. extra])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("ConnectionStrings__messaging");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await stdout + await stderr);
    }
}
