using System.Security.Claims;
using System.Text.Json.Nodes;
using ContentMax.Dashboard;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace ContentMax.UnitTests;

// What the dashboard tells the browser SDKs, and the CSP computed from it.
public class DashboardBrowserMonitoringTests
{
    private const string Dsn = "https://publickey@o123.ingest.example.test:8443/456";
    private static readonly ServiceIdentity Identity = new("dashboard", "0.1.0+abc123", "test-host", "staging");

    [Fact]
    public void Defaults_ReplaySampleRatesAreTenPercentAndAllErrors_RecordingOnOutsideDevelopment()
    {
        var settings = Settings("Production", ("Sentry:Dsn", Dsn), ("PostHog:ProjectApiKey", "phc_key"), ("PostHog:Host", "https://eu.i.posthog.example/"));

        Assert.Equal(0.1, settings.Sentry!.ReplaysSessionSampleRate);
        Assert.Equal(1.0, settings.Sentry.ReplaysOnErrorSampleRate);
        Assert.Equal("staging", settings.Sentry.Environment);
        Assert.Equal("contentmax@0.1.0+abc123", settings.Sentry.Release);
        Assert.True(settings.PostHog!.SessionRecording);
        Assert.Equal("https://eu.i.posthog.example", settings.PostHog.Host);
        Assert.Equal("0.1.0+abc123", settings.PostHog.AppVersion);
        Assert.Equal(false, settings.PostHog.BootstrapFlags["new-dashboard"]);
    }

    [Fact]
    public void InDevelopment_SessionRecordingIsOff_UnlessConfigured()
    {
        Assert.False(Settings("Development", ("PostHog:ProjectApiKey", "phc_key")).PostHog!.SessionRecording);
        Assert.True(Settings("Development", ("PostHog:ProjectApiKey", "phc_key"), ("PostHog:SessionRecording", "true")).PostHog!.SessionRecording);
    }

    [Fact]
    public void ConfiguredRates_AreUsed_AndInvalidOnesStopStartup()
    {
        var settings = Settings("Production", ("Sentry:Dsn", Dsn), ("Sentry:ReplaysSessionSampleRate", "1.0"), ("Sentry:ReplaysOnErrorSampleRate", "0.5"));
        Assert.Equal(1.0, settings.Sentry!.ReplaysSessionSampleRate);
        Assert.Equal(0.5, settings.Sentry.ReplaysOnErrorSampleRate);

        var error = Assert.Throws<InvalidOperationException>(() => Settings("Production", ("Sentry:Dsn", Dsn), ("Sentry:ReplaysSessionSampleRate", "10%")));
        Assert.Contains("Sentry:ReplaysSessionSampleRate", error.Message);
        Assert.Throws<InvalidOperationException>(() => Settings("Production", ("PostHog:ProjectApiKey", "k"), ("PostHog:SessionRecording", "sometimes")));
    }

    [Fact]
    public void WithoutKeys_NeitherToolIsConfigured_AndTheCspConnectsOnlyToItself()
    {
        var settings = Settings("Production");

        Assert.Null(settings.Sentry);
        Assert.Null(settings.PostHog);
        Assert.Contains("connect-src 'self';", SecurityHeaders.ContentSecurityPolicy(settings.ConnectOrigins));
        var page = JsonNode.Parse(settings.PageConfigJson(user: null))!;
        Assert.Null(page["sentry"]);
        Assert.Null(page["posthog"]);
        Assert.Null(page["operator"]);
    }

    [Fact]
    public void Csp_ConnectsToTheSentryAndPostHogOrigins_WithoutTheDsnKey()
    {
        var settings = Settings("Production", ("Sentry:Dsn", Dsn), ("PostHog:ProjectApiKey", "phc_key"), ("PostHog:Host", "https://eu.i.posthog.example/"));

        var csp = SecurityHeaders.ContentSecurityPolicy(settings.ConnectOrigins);

        Assert.Contains("connect-src 'self' https://o123.ingest.example.test:8443 https://eu.i.posthog.example;", csp);
        Assert.DoesNotContain("publickey", csp);
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("worker-src 'self' blob:", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
    }

    [Fact]
    public void Csp_ReportsViolationsToSentrysSecurityEndpoint()
    {
        var settings = Settings("Production", ("Sentry:Dsn", "https://publickey@sentry.example.test/prefix/456"), ("Sentry:Release", "contentmax@1.2.3"));

        var csp = SecurityHeaders.ContentSecurityPolicy(settings.ConnectOrigins, settings.Sentry!.SecurityReportUrl);

        Assert.EndsWith(
            "; report-uri https://sentry.example.test/prefix/api/456/security/?sentry_key=publickey&sentry_environment=staging&sentry_release=contentmax%401.2.3",
            csp);
        Assert.Contains("script-src 'self' 'report-sample';", csp);
    }

    [Fact]
    public void PageConfig_CarriesTheOperatorsOpaqueId_AndCannotCloseItsScriptElement()
    {
        var settings = Settings("Production", ("Sentry:Dsn", Dsn), ("Sentry:Environment", "</script><script>alert(1)</script>"), ("PostHog:ProjectApiKey", "phc_key"));
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "op-0123456789abcdef")], "cookie"));

        var json = settings.PageConfigJson(user);

        Assert.DoesNotContain("</script>", json);
        var page = JsonNode.Parse(json)!;
        Assert.Equal("op-0123456789abcdef", (string?)page["operator"]!["id"]);
        Assert.Equal(Dsn, (string?)page["sentry"]!["dsn"]);
        Assert.Equal("phc_key", (string?)page["posthog"]!["key"]);
        Assert.Equal(0.1, (double?)page["sentry"]!["replaysSessionSampleRate"]);
    }

    private static BrowserMonitoringSettings Settings(string environmentName, params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var identity = configuration["Sentry:Environment"] is { } environment ? Identity with { Environment = environment } : Identity;
        var postHog = new PostHogOptions();
        configuration.GetSection(PostHogOptions.SectionName).Bind(postHog);
        return BrowserMonitoringSettings.From(configuration, new TestEnvironment(environmentName), ErrorTrackingSettings.From(configuration, identity), identity, postHog);
    }

    private sealed class TestEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "ContentMax.Dashboard";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
