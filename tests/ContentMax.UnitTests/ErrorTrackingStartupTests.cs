using System.Net;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.UnitTests;

// A service built as the services are (AddServiceDefaults, AddErrorTracking,
// AddProductAnalytics) with no Sentry DSN or PostHog key:
// it serves normally, warns once per missing tool, and still has the admin
// diagnostics endpoint when it authenticates with API keys.
public class ErrorTrackingStartupTests
{
    [Fact]
    public async Task WithoutDsnOrKey_ServiceRuns_AndWarnsOncePerTool()
    {
        var logs = new CollectingLoggerProvider();
        await using var app = await StartAsync(logs, withApiKeys: false);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        Assert.Single(logs.Warnings, m => m.Contains("Sentry error tracking is disabled", StringComparison.Ordinal));
        Assert.Single(logs.Warnings, m => m.Contains("PostHog product analytics is disabled", StringComparison.Ordinal));
        Assert.False(app.Services.GetRequiredService<ErrorReporter>().Enabled);
        Assert.False(app.Services.GetRequiredService<ProductAnalytics>().Enabled);
        Assert.False(await app.Services.GetRequiredService<ProductAnalytics>().IsFeatureEnabled("u", "new-dashboard"));

        // No API-key scheme (the dashboard's case): no diagnostics endpoint.
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/diagnostics/sentry-test", null)).StatusCode);
    }

    [Fact]
    public async Task WithApiKeys_DiagnosticsEndpointIsAdminOnly()
    {
        await using var app = await StartAsync(new CollectingLoggerProvider(), withApiKeys: true);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(client, "read-key")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await PostAsync(client, "admin-key")).StatusCode);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/diagnostics/sentry-test");
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await client.SendAsync(request);
    }

    private static async Task<WebApplication> StartAsync(CollectingLoggerProvider logs, bool withApiKeys)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development", ApplicationName = "ContentMax.UnitTests" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sentry:Dsn"] = "",
            ["PostHog:ProjectApiKey"] = "",
            ["ApiKeys:Read"] = "read-key",
            ["ApiKeys:Admin"] = "admin-key",
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.AddServiceDefaults();
        builder.AddErrorTracking();
        builder.AddProductAnalytics();
        if (withApiKeys)
        {
            builder.AddApiKeyAuthentication(ApiRoles.Read);
        }

        var app = builder.Build();
        app.MapDefaultEndpoints();
        if (withApiKeys)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        await app.StartAsync();
        return app;
    }

    private sealed class CollectingLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _warnings = [];

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (_warnings)
                {
                    return [.. _warnings];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CollectingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel == LogLevel.Warning)
                {
                    lock (provider._warnings)
                    {
                        provider._warnings.Add(formatter(state, exception));
                    }
                }
            }
        }
    }
}
