using ContentMax.Monitoring.Client;
using ContentMax.Monitoring.Client.Aggregation;
using ContentMax.Monitoring.Client.AspNetCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

// Beside the other Use... methods, so app.UseContentMaxMonitoring() needs no using.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds ContentMax request metrics to an ASP.NET Core pipeline.</summary>
public static class ContentMaxMonitoringApplicationExtensions
{
    /// <summary>
    /// Records <c>api_requests</c> and <c>api_response_time</c> for every request
    /// outside ExcludedPaths, tagged with the route template, method, status and
    /// service, and <c>errors</c> for unhandled exceptions (which it rethrows).
    /// Put it after <c>UseExceptionHandler</c>, so it sees the exceptions, and
    /// before the endpoints. Needs <c>builder.AddContentMaxMonitoring()</c>.
    /// </summary>
    /// <param name="app">The application's pipeline.</param>
    /// <returns>The pipeline.</returns>
    public static IApplicationBuilder UseContentMaxMonitoring(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<MetricAggregator>() is null)
        {
            throw new InvalidOperationException("UseContentMaxMonitoring() needs the client's services: call builder.AddContentMaxMonitoring() first.");
        }

        var options = app.ApplicationServices.GetRequiredService<IOptions<ContentMaxMonitoringOptions>>().Value;
        return options.Enabled ? app.UseMiddleware<RequestMetricsMiddleware>() : app;
    }
}
