using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.IntegrationTests;

// Collects a resource's console output (every replica's) from the moment it is
// created, so a test can look at what a service logged while it acted.
public sealed class ResourceLogs : IAsyncDisposable
{
    private readonly List<string> _lines = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    private ResourceLogs(DistributedApplication app, string resource)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var target = model.Resources.Single(r => r.Name == resource);
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        _reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in logs.WatchAsync(target).WithCancellation(_stop.Token))
                {
                    lock (_lines) _lines.AddRange(batch.Select(l => l.Content));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public static ResourceLogs Capture(DistributedApplication app, string resource) => new(app, resource);

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }
}
