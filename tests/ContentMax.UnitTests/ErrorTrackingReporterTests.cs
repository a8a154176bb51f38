using System.Diagnostics;
using System.Globalization;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Sentry;
using Sentry.Extensibility;
using static ContentMax.UnitTests.ErrorTrackingTestData;

namespace ContentMax.UnitTests;

// ErrorReporter (captureError / measureTransaction) and the Sentry settings.
// The Sentry SDK is never initialised in this test process, so HubAdapter is
// the disabled hub a service without a DSN has.
public class ErrorTrackingReporterTests
{
    private static ErrorReporter Reporter(HttpContext? context = null) =>
        new(HubAdapter.Instance, new HttpContextAccessor { HttpContext = context }, Redactor(), TimeProvider.System);

    [Fact]
    public void BuildEvent_Defaults_ComponentUnknownTimestampNoUser()
    {
        var sentryEvent = Reporter().BuildEvent(new InvalidOperationException("x"));

        Assert.Equal("unknown", sentryEvent.Tags["component"]);
        Assert.True(DateTimeOffset.TryParseExact((string)sentryEvent.Extra["timestamp"]!, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        Assert.False(sentryEvent.Extra.ContainsKey("url"));
        Assert.Null(sentryEvent.User.Id);
        Assert.Equal(SentryLevel.Error, sentryEvent.Level);
    }

    [Fact]
    public void BuildEvent_GivenContext_TagsExtraUserAndLevelAreApplied()
    {
        var sentryEvent = Reporter().BuildEvent(
            new InvalidOperationException("x"),
            tags: new Dictionary<string, string> { ["component"] = "scoring", ["test"] = "true" },
            extra: new Dictionary<string, object?> { ["nodeId"] = "n-1" },
            user: new ErrorUser("u-1", "ann@example.com"),
            level: ErrorLevel.Fatal);

        Assert.Equal("scoring", sentryEvent.Tags["component"]);
        Assert.Equal("true", sentryEvent.Tags["test"]);
        Assert.Equal("n-1", sentryEvent.Extra["nodeId"]);
        Assert.Equal("u-1", sentryEvent.User.Id);
        Assert.Equal("ann@example.com", sentryEvent.User.Email);
        Assert.Equal(SentryLevel.Fatal, sentryEvent.Level);
    }

    [Fact]
    public void BuildEvent_InARequest_ExtraUrlHasTheKeyFiltered()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost", 5181);
        context.Request.Path = "/api/metrics";
        context.Request.QueryString = new QueryString("?key=ingest-secret&page=2");

        var sentryEvent = Reporter(context).BuildEvent(new InvalidOperationException("x"));

        Assert.Equal("http://localhost:5181/api/metrics?key=[Filtered]&page=2", sentryEvent.Extra["url"]);
    }

    [Fact]
    public void CaptureError_SentryDisabled_ReportsNothingAndDoesNotThrow()
    {
        Assert.False(Reporter().Enabled);
        Assert.Equal(SentryId.Empty, Reporter().CaptureError(new InvalidOperationException("x")));
    }

    [Fact]
    public async Task MeasureTransaction_SentryDisabled_StillRunsTheWork()
    {
        var ran = false;
        var result = await Reporter().MeasureTransaction("score nodes", "task", async () =>
        {
            await Task.Yield();
            ran = true;
            return 42;
        });

        Assert.True(ran);
        Assert.Equal(42, result);
    }

    [Fact]
    public async Task MeasureTransaction_WorkThrows_SameExceptionIsRethrownAndActivityIsError()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ContentMaxTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (stopped) { stopped.Add(a); } },
        };
        ActivitySource.AddActivityListener(listener);
        var failure = new InvalidOperationException("work failed");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Reporter().MeasureTransaction("measured-failure", "task", Task<int> () => throw failure));

        Assert.Same(failure, thrown);
        Activity activity;
        lock (stopped)
        {
            activity = Assert.Single(stopped, a => a.DisplayName == "measured-failure");
        }

        Assert.Equal(ActivityStatusCode.Error, activity.Status);
    }

    [Theory]
    [InlineData("Production", null, 0.1)]
    [InlineData("Development", null, 1.0)]
    [InlineData("Staging", null, 1.0)]
    [InlineData("Production", "0.25", 0.25)]
    public void Settings_TracesSampleRate_DependsOnEnvironmentUnlessConfigured(string environment, string? configured, double expected)
    {
        var configuration = Configuration(("Sentry:TracesSampleRate", configured));
        var identity = ServiceIdentity.Resolve(configuration, HostEnvironment(environment));

        Assert.Equal(expected, ErrorTrackingSettings.From(configuration, identity).TracesSampleRate);
    }

    [Fact]
    public void Settings_InvalidSampleRate_FailsAtStartupWithTheSettingName()
    {
        var configuration = Configuration(("Sentry:TracesSampleRate", "10%"));
        var identity = ServiceIdentity.Resolve(configuration, HostEnvironment("Production"));

        var error = Assert.Throws<InvalidOperationException>(() => ErrorTrackingSettings.From(configuration, identity));
        Assert.Contains("Sentry:TracesSampleRate", error.Message);
    }

    [Fact]
    public void Settings_ListsExtendTheDefaults_AsIndexedEntriesOrCommaSeparated()
    {
        var configuration = Configuration(
            ("Sentry:IgnoredExceptions:0", "TimeoutException"),
            ("Sentry:RedactedFields", "session_id, ssn"),
            ("Sentry:Dsn", "http://public@127.0.0.1:9/1"));
        var settings = ErrorTrackingSettings.From(configuration, ServiceIdentity.Resolve(configuration, HostEnvironment("Development")));

        Assert.True(settings.Enabled);
        Assert.Contains("TimeoutException", settings.IgnoredExceptions);
        Assert.Contains("Microsoft.AspNetCore.Connections.ConnectionResetException", settings.IgnoredExceptions);
        Assert.Contains("ssn", settings.RedactedFields);
        Assert.Contains("session_id", settings.RedactedFields);
        Assert.Contains("password", settings.RedactedFields);
    }

    [Fact]
    public void Identity_NameFromOtelServiceName_EnvironmentFromSentryOrHost()
    {
        var fromOtel = ServiceIdentity.Resolve(Configuration(("OTEL_SERVICE_NAME", "ingestion"), ("Sentry:Environment", "staging-eu")), HostEnvironment("Production"));
        var fromHost = ServiceIdentity.Resolve(Configuration(), HostEnvironment("Production"));

        Assert.Equal("ingestion", fromOtel.Name);
        Assert.Equal("staging-eu", fromOtel.Environment);
        Assert.Equal("ContentMax.Test", fromHost.Name);
        Assert.Equal("production", fromHost.Environment);
        Assert.True(fromHost.IsProduction);
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static IHostEnvironment HostEnvironment(string name) =>
        new HostingEnvironment { EnvironmentName = name, ApplicationName = "ContentMax.Test" };
}
