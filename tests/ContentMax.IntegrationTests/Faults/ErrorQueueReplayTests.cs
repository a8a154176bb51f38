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

        await rows.ExecuteAsync("ALTER TABLE metrics RENAME TO metrics_moved_away");
        try
        {
            for (var batch = 0; batch < 3; batch++)
            {
                var metrics = Enumerable.Range(0, 100).Select(i => new { metric = name, value = batch * 100 + i }).ToArray();
                Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsJsonAsync("/api/metrics", metrics)).StatusCode);
            }

            // Anything else still on its way to storage (earlier tests' metrics, retries
            // that run out meanwhile) fails the same way and is replayed too, so the
            // counts below are at least ours, read from what the tool says.
            await Eventually.UntilAsync(() => fixture.ErrorQueueAsync(), q => q.Messages >= 3, TimeSpan.FromSeconds(60),
                q => $"{q.Messages} messages in the error queue");
            // Messaging:QuorumQueues=true: both queues are quorum queues, or redeclaring them so would fail.
            Assert.True(await fixture.IsQuorumQueueAsync(MessagingTopology.MetricsStorageQueue));
            Assert.True(await fixture.IsQuorumQueueAsync(MessagingTopology.MetricsStorageQueue + "_error"));
            var dryRun = await ReplayAsync("--dry-run");
            output.WriteLine(dryRun.Output);
            Assert.Equal(0, dryRun.ExitCode);
            var wouldReplay = Count(dryRun.Output, @"Dry run: (\d+) message\(s\) in metrics-storage_error would be replayed");
            Assert.True(wouldReplay >= 3, dryRun.Output);
            Assert.Contains("relation \"metrics\" does not exist", dryRun.Output);
            Assert.True((await fixture.ErrorQueueAsync()).Messages >= wouldReplay, "the dry run moved messages");
        }
        finally
        {
            await rows.ExecuteAsync("ALTER TABLE metrics_moved_away RENAME TO metrics");
        }

        Assert.Equal(0, (await rows.CountAsync(name)).Rows);
        // Until no more failures arrive: a message on its last retry when the table came back may still land there.
        var settled = await SettledErrorQueueAsync();
        output.WriteLine($"{settled} message(s) in the error queue before the replay");
        var replay = await ReplayAsync();
        output.WriteLine(replay.Output);
        Assert.Equal(0, replay.ExitCode);
        Assert.Equal(settled, (uint)Count(replay.Output, @"Replayed (\d+) message\(s\) from metrics-storage_error to metrics-storage\."));

        var (stored, distinct) = await rows.WaitForAsync(name, 300, TimeSpan.FromSeconds(30));
        Assert.Equal((300, 300), (stored, distinct));
        Assert.Equal(0u, (await fixture.ErrorQueueAsync()).Messages);

        // Running it again finds nothing to do.
        Assert.Contains("Replayed 0 message(s)", (await ReplayAsync()).Output);
    }

    private static int Count(string output, string pattern)
    {
        var match = System.Text.RegularExpressions.Regex.Match(output, pattern);
        Assert.True(match.Success, $"'{pattern}' not in: {output}");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<uint> SettledErrorQueueAsync()
    {
        var last = (await fixture.ErrorQueueAsync()).Messages;
        var stableSince = Stopwatch.StartNew();
        var deadline = Stopwatch.StartNew();
        while (stableSince.Elapsed < TimeSpan.FromSeconds(4) && deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(500);
            var now = (await fixture.ErrorQueueAsync()).Messages;
            if (now != last) stableSince.Restart();
            last = now;
        }

        return last;
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
