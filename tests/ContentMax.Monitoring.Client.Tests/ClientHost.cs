using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Tests;

// A generic host with the client, configured from settings, its logs
// captured and its counters (by reason) read through a MeterListener on this
// host's meter only, so tests running side by side do not see each other's.
internal sealed class ClientHost : IAsyncDisposable
{
    public const string ServiceName = "orders-api";

    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Instrument, string? Reason), long> _measurements = [];

    private ClientHost(IHost host)
    {
        Host = host;
        var scope = host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ClientMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, scope)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "reason") reason = tag.Value as string;
            }

            lock (_measurements)
            {
                _measurements[(instrument.Name, reason)] = _measurements.GetValueOrDefault((instrument.Name, reason)) + value;
            }
        });
        _listener.Start();
    }

    public IHost Host { get; }

    public LogCapture Logs => Host.Services.GetRequiredService<LogCapture>();

    public IMetricsPublisher Metrics => Host.Services.GetRequiredService<IMetricsPublisher>();

    public ClientMetrics Counters => Host.Services.GetRequiredService<ClientMetrics>();

    public static Dictionary<string, string?> Settings(Uri? endpoint, params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ContentMaxMonitoring:Endpoint"] = endpoint?.ToString(),
            ["ContentMaxMonitoring:IngestKey"] = "test-ingest-key",
            ["ContentMaxMonitoring:FlushInterval"] = "100ms",
            ["ContentMaxMonitoring:RetryMaxDelay"] = "200ms",
            ["ContentMaxMonitoring:ShutdownTimeout"] = "5s",
        };
        foreach (var (key, value) in more) settings["ContentMaxMonitoring:" + key] = value;
        return settings;
    }

    public static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = ServiceName,
            EnvironmentName = Environments.Development,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new LogCapture();
        builder.Services.AddSingleton(logs);
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        return builder;
    }

    public static async Task<ClientHost> StartAsync(Dictionary<string, string?> settings, Action<HostApplicationBuilder, IContentMaxMonitoringBuilder>? configure = null)
    {
        var builder = Builder(settings);
        var monitoring = builder.AddContentMaxMonitoring();
        configure?.Invoke(builder, monitoring);
        var host = builder.Build();
        var client = new ClientHost(host);
        await host.StartAsync();
        return client;
    }

    public long Measured(string instrument, string? reason = null)
    {
        lock (_measurements) return _measurements.GetValueOrDefault((instrument, reason));
    }

    public Task StopAsync() => Host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        _listener.Dispose();
    }
}

// Every log line, formatted, with its level.
internal sealed class LogCapture : ILoggerProvider
{
    private readonly List<(LogLevel Level, string Category, string Message)> _lines = [];

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (capture._lines) capture._lines.Add((logLevel, category, formatter(state, exception)));
        }
    }
}
