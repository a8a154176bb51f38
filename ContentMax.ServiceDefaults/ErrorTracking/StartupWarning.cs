using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// Says once, when the service starts, that an optional integration is off and
// how to turn it on. Nothing else about the service changes.
public sealed class StartupWarning(ILogger logger, string message) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogWarning("{Message}", message);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
