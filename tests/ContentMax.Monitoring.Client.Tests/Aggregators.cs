using System.Diagnostics.Metrics;
using ContentMax.Contracts;
using ContentMax.Ingestion;
using ContentMax.Monitoring.Client.Aggregation;
using ContentMax.Monitoring.Client.Delivery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Tests;

// An aggregator on its own, and the round trip of what it forms through the
// HTTP body writer and the server's parser.
internal sealed class Aggregators : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public Aggregators(Action<ContentMaxMonitoringOptions>? configure = null)
    {
        Options = new ContentMaxMonitoringOptions { Endpoint = new Uri("http://ingestion.test"), ServiceName = ClientHost.ServiceName };
        configure?.Invoke(Options);
        Buffer = new PointBuffer(Options.MaxBufferedPoints);
        Metrics = new ClientMetrics(_services.GetRequiredService<IMeterFactory>());
        Aggregator = new MetricAggregator(Options, Buffer, Metrics, new Logger<MetricAggregator>(new LoggerFactoryOver(Logs)));
        Publisher = new MetricsPublisher(Aggregator, Options);
    }

    public ContentMaxMonitoringOptions Options { get; }
    public PointBuffer Buffer { get; }
    public ClientMetrics Metrics { get; }
    public LogCapture Logs { get; } = new();
    public MetricAggregator Aggregator { get; }
    public IMetricsPublisher Publisher { get; }

    // What one flush sends, as the ingestion API reads it.
    public MetricPoint[] FlushThroughServer()
    {
        var points = Aggregator.Drain(DateTimeOffset.UtcNow);
        if (points.Count == 0) return [];
        var body = MetricJsonWriter.Write(points);
        var parsed = MetricRequestParser.Parse(body, DateTimeOffset.UtcNow);
        Assert.True(parsed.IsValid, "the server rejects what the client sends: " + string.Join("; ", parsed.Errors) + "\n" + System.Text.Encoding.UTF8.GetString(body));
        // The client chose every id, so the server keeps each at most once.
        Assert.All(parsed.Points, p => Assert.True(p.RequireUniqueId));
        Assert.Equal(points.Select(p => p.Id), parsed.Points.Select(p => p.Id));
        return parsed.Points;
    }

    public void Dispose() => _services.Dispose();

    private sealed class LoggerFactoryOver(LogCapture capture) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => capture.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
