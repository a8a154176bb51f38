using System.Collections.Concurrent;
using System.Net;
using ContentMax.Aggregation;
using ContentMax.Aggregation.Queries;
using ContentMax.Aggregation.Storage;
using ContentMax.Alerting.Rules;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentMax.IntegrationTests;

// The reads alerting judges its rules by (AlertMetricSignals), run on the
// shared database with every statement they execute recorded. A selector the
// minute rollups show no stored point can match is answered without reading
// the metric's raw rows; once a point matches, the raw rows give the exact answer.
[Collection(AppHostCollection.Name)]
public class AlertSignalsTests(AppHostFixture fixture)
{
    private const string RawRead = "FROM metrics WHERE";

    [Fact]
    public async Task ASelectorNoStoredPointCanMatch_IsAnsweredWithoutRawRows_AndAMatchingPointIsFoundExactly()
    {
        using var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        using var reader = fixture.Client("aggregation", AppHostFixture.ReadKey);
        var metric = MetricsApi.UniqueName();
        var busy = Enumerable.Range(0, 300).Select(i => new { metric, value = i, tags = new { level = "info", status = "200", region = "eu" } }).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(busy)).StatusCode);
        await reader.WaitForCountAsync(metric, busy.Length);

        var executed = new ConcurrentQueue<string>();
        await using var dataSource = new NpgsqlDataSourceBuilder(await fixture.ConnectionStringAsync("metricsdb"))
            .UseLoggerFactory(LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(new StatementLog(executed))))
            .Build();
        var aggregation = Options.Create(new AggregationOptions());
        var signals = new AlertMetricSignals(dataSource, new MetricQueries(dataSource, aggregation), aggregation, Options.Create(new RetentionOptions()), TimeProvider.System);
        var (from, to) = (DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        var fatal = new MetricSelector { Metric = metric, Tags = new() { ["level"] = "fatal" } };
        var serverErrors = new MetricSelector { Metric = metric, Where = [new ValueFilter { Tag = "status", Op = ">=", Value = 500 }] };

        // `level` and `status` are rollup keys: the tagged minute rollups hold no match.
        Assert.Null(await signals.AggregateAsync(fatal, "count", from, to, CancellationToken.None));
        Assert.Equal(0, await signals.CountAsync(fatal, from, to, CancellationToken.None));
        Assert.Equal(0, await signals.CountAsync(serverErrors, from, to, CancellationToken.None));
        Assert.NotEmpty(executed);
        Assert.DoesNotContain(executed, sql => sql.Contains(RawRead, StringComparison.Ordinal));

        // `region` is not a rollup key: only the raw rows can tell.
        var elsewhere = new MetricSelector { Metric = metric, Tags = new() { ["region"] = "us" } };
        Assert.Equal(0, await signals.CountAsync(elsewhere, from, to, CancellationToken.None));
        Assert.Contains(executed, sql => sql.Contains(RawRead, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Accepted,
            (await ingestion.PostAsync(new { metric, value = 7.5, tags = new { level = "fatal", status = "503", region = "eu" } })).StatusCode);
        await reader.WaitForCountAsync(metric, busy.Length + 1);
        executed.Clear();
        Assert.Equal(1, await signals.AggregateAsync(fatal, "count", from, to, CancellationToken.None));
        Assert.Equal(7.5, await signals.AggregateAsync(fatal, "max", from, to, CancellationToken.None));
        Assert.Equal(1, await signals.CountAsync(serverErrors, from, to, CancellationToken.None));
        Assert.Contains(executed, sql => sql.Contains(RawRead, StringComparison.Ordinal));
    }

    // Npgsql logs each statement it executes at Debug, with its SQL.
    private sealed class StatementLog(ConcurrentQueue<string> executed) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => categoryName == "Npgsql.Command" ? new Recorder(executed) : NullLogger;

        public void Dispose()
        {
        }

        private static readonly ILogger NullLogger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        private sealed class Recorder(ConcurrentQueue<string> executed) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                executed.Enqueue(formatter(state, exception));
        }
    }
}
