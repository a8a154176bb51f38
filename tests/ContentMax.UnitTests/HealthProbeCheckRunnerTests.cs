using ContentMax.HealthProbe;
using ContentMax.HealthProbe.Checks;

namespace ContentMax.UnitTests;

// CheckRunner against checks that succeed, throw, hang and block: a hung
// dependency must cost the probe one pending call and never a slow answer.
public class HealthProbeCheckRunnerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    private sealed class FakeCheck(Func<CancellationToken, Task<ProbeOutcome>> run) : IHealthProbeCheck
    {
        public int Calls;

        public string Name => "fake";

        public string Group => CheckGroups.Database;

        public Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return run(cancellationToken);
        }
    }

    [Fact]
    public async Task ASucceedingCheck_IsOk_WithItsLatency()
    {
        var runner = new CheckRunner(new FakeCheck(async ct =>
        {
            await Task.Delay(20, ct);
            return ProbeOutcome.Success;
        }), TimeSpan.FromSeconds(5)); // a 20 ms check, not cut short by a busy test host

        var (outcome, latency) = await runner.RunOnceAsync(CancellationToken.None);

        Assert.True(outcome.Ok);
        Assert.InRange(latency, TimeSpan.FromMilliseconds(15), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AThrowingCheck_FailsWithASanitizedReason()
    {
        var runner = new CheckRunner(new FakeCheck(_ => throw new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5190",
            new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))), Timeout);

        var (outcome, _) = await runner.RunOnceAsync(CancellationToken.None);

        Assert.False(outcome.Ok);
        Assert.Equal("connection refused", outcome.Error);
    }

    [Fact]
    public async Task AHangingCheck_TimesOut_IsCancelled_AndIsNotStartedTwice()
    {
        var cancelled = new TaskCompletionSource();
        var release = new TaskCompletionSource<ProbeOutcome>();
        var check = new FakeCheck(ct =>
        {
            // Like a frozen server: notices the cancellation, but returns only when released.
            ct.Register(() => cancelled.TrySetResult());
            return release.Task;
        });
        var runner = new CheckRunner(check, Timeout);

        var (first, firstLatency) = await runner.RunOnceAsync(CancellationToken.None);
        Assert.False(first.Ok);
        Assert.Equal("timed out after 0.2s", first.Error);
        Assert.InRange(firstLatency, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5));

        // Still hanging: reported at once, without a second call piling up.
        var (second, secondLatency) = await runner.RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMilliseconds(100));
        Assert.Equal("timed out after 0.2s", second.Error);
        Assert.True(secondLatency >= firstLatency, "the latency of a hung run keeps growing");
        Assert.Equal(1, check.Calls);

        // Once the hung call returns, the next round runs the check again.
        release.SetResult(ProbeOutcome.Success);
        await Task.Delay(50);
        var (third, _) = await runner.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2, check.Calls);
        Assert.True(third.Ok);
    }

    [Fact]
    public async Task ACheckThatBlocksItsThread_StillTimesOutOnTime()
    {
        using var unblock = new ManualResetEventSlim();
        var runner = new CheckRunner(new FakeCheck(_ =>
        {
            unblock.Wait(TimeSpan.FromSeconds(10));
            return Task.FromResult(ProbeOutcome.Success);
        }), Timeout);

        try
        {
            var (outcome, _) = await runner.RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
            Assert.Equal("timed out after 0.2s", outcome.Error);
        }
        finally
        {
            unblock.Set();
        }
    }

    [Fact]
    public async Task Stopping_EndsTheRoundWithCancellation()
    {
        using var stopping = new CancellationTokenSource();
        var runner = new CheckRunner(new FakeCheck(ct => Task.Delay(System.Threading.Timeout.Infinite, ct).ContinueWith(_ => ProbeOutcome.Success, TaskScheduler.Default)),
            TimeSpan.FromSeconds(30));

        var round = runner.RunOnceAsync(stopping.Token);
        stopping.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => round);
    }
}
