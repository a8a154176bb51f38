using ContentMax.Alerting;
using ContentMax.Alerting.Notifications;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sentry.Extensibility;

namespace ContentMax.UnitTests;

// A background service outlives whatever its work throws: it logs, backs
// off and goes on, rather than ending (and with it, by default, the host).
public class BackgroundServicesSurviveTests
{
    [Fact]
    public async Task AlertNotifier_WhoseSettingsTurnInvalid_KeepsRunning_AndRecoversWhenTheyAreFixed()
    {
        var settings = new FlakyOptions<AlertingOptions>(new AlertingOptions { DeliveryPollInterval = TimeSpan.FromMilliseconds(100) }) { FailuresLeft = 2 };
        var logger = new ListLogger<AlertNotifier>();
        await using var nowhere = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=1");
        using var notifier = new AlertNotifier(nowhere, settings, TimeProvider.System, new TestMeterFactory(),
            new ErrorReporter(HubAdapter.Instance, new HttpContextAccessor(), new SensitiveDataRedactor([]), TimeProvider.System), logger);

        await notifier.StartAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(5));

        Assert.False(notifier.ExecuteTask!.IsCompleted, $"the notifier stopped: {notifier.ExecuteTask.Exception}");
        Assert.Contains(logger.Messages, m => m.Contains("alert-notifier failed (OptionsValidationException", StringComparison.Ordinal));
        // Once the settings are valid again it goes on to the database (which is away here, and that too is survived).
        Assert.Contains(logger.Messages, m => m.Contains("alert-notifier failed (Npgsql", StringComparison.Ordinal) || m.Contains("alert-notifier failed (SocketException", StringComparison.Ordinal));
        await notifier.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task BackgroundLoop_BacksOffAfterFailures_AndResetsOnSuccess()
    {
        // On a fake clock, moved 50 ms at a time: the waits are the loop's, not the machine's.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var start = time.GetUtcNow();
        var rounds = new List<TimeSpan>();
        var outcomes = new Queue<bool>([false, false, true, true]);
        var logger = new ListLogger<BackgroundServicesSurviveTests>();
        using var stop = new CancellationTokenSource();

        var loop = BackgroundLoop.RunAsync("test-loop", _ =>
        {
            lock (rounds) rounds.Add(time.GetUtcNow() - start);
            if (outcomes.Count == 0)
            {
                stop.Cancel();
                return Task.FromResult(TimeSpan.Zero);
            }

            return outcomes.Dequeue() ? Task.FromResult(TimeSpan.Zero) : throw new ArgumentException("a bug");
        }, logger, null, time, stop.Token);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!loop.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(2);
        }

        await loop;
        Assert.Equal(5, rounds.Count);
        Assert.InRange((rounds[1] - rounds[0]).TotalSeconds, 1.0, 1.1);
        Assert.InRange((rounds[2] - rounds[1]).TotalSeconds, 2.0, 2.1);
        Assert.Equal(rounds[3], rounds[4]);
        Assert.Equal(2, logger.Messages.Count(m => m.Contains("test-loop failed (ArgumentException: a bug)", StringComparison.Ordinal)));
    }

    [Fact]
    public void BackgroundLoop_TellsOutagesFromBugs()
    {
        Assert.True(BackgroundLoop.IsOutage(new TimeoutException()));
        Assert.True(BackgroundLoop.IsOutage(new InvalidOperationException("wrapped", new System.Net.Sockets.SocketException())));
        Assert.True(BackgroundLoop.IsOutage(new Npgsql.PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01")));
        Assert.False(BackgroundLoop.IsOutage(new Npgsql.PostgresException("syntax error", "ERROR", "ERROR", "42601")));
        Assert.False(BackgroundLoop.IsOutage(new ArgumentException("a bug")));
    }

    private sealed class FlakyOptions<T>(T value) : IOptionsMonitor<T>
    {
        private int _reads;

        public int FailuresLeft { get; set; }

        // The first read (the Enabled check at start) succeeds; the next FailuresLeft fail as a bad reload would.
        public T CurrentValue => Interlocked.Increment(ref _reads) > 1 && FailuresLeft-- > 0
            ? throw new OptionsValidationException("Alerting", typeof(T), ["Alerting:Receivers entry needs an absolute http(s) Url."])
            : value;

        public T Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages) Messages.Add(formatter(state, exception));
        }
    }
}
