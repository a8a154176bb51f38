using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Sentry;
using Sentry.Protocol;
using static ContentMax.UnitTests.ErrorTrackingTestData;

namespace ContentMax.UnitTests;

// Which events are dropped (ignorable exceptions), which breadcrumbs are kept,
// and how transactions are named.
public class ErrorTrackingFilterTests
{
    [Fact]
    public void BeforeSend_ClientDisconnects_AreDropped()
    {
        Assert.Null(Callbacks().BeforeSend(new SentryEvent(new ConnectionResetException("reset"))));
        Assert.Null(Callbacks().BeforeSend(new SentryEvent(new BadHttpRequestException("Unexpected end of request content."))));
    }

    [Fact]
    public void BeforeSend_CancellationOfAnAbortedRequest_IsDropped()
    {
        Assert.Null(Callbacks(requestAborted: true).BeforeSend(new SentryEvent(new OperationCanceledException())));
        Assert.Null(Callbacks(requestAborted: true).BeforeSend(new SentryEvent(new TaskCanceledException())));
    }

    [Fact]
    public void BeforeSend_CancellationWithoutAnAbortedRequest_IsKept()
    {
        // An HttpClient timeout surfaces as TaskCanceledException: a real problem.
        Assert.NotNull(Callbacks(requestAborted: false).BeforeSend(new SentryEvent(new TaskCanceledException("timeout"))));
    }

    [Fact]
    public void BeforeSend_OrdinaryErrors_AreKept()
    {
        Assert.NotNull(Callbacks().BeforeSend(new SentryEvent(new InvalidOperationException("real"))));
        Assert.NotNull(Callbacks().BeforeSend(new SentryEvent(new SentryTestException("test"))));
    }

    [Fact]
    public void BeforeSend_ConfiguredTypes_MatchByShortOrFullNameAndSubclasses()
    {
        var callbacks = Callbacks(false, "TimeoutException", "System.IO.IOException");

        Assert.Null(callbacks.BeforeSend(new SentryEvent(new TimeoutException())));
        Assert.Null(callbacks.BeforeSend(new SentryEvent(new FileNotFoundException()))); // an IOException
        Assert.NotNull(callbacks.BeforeSend(new SentryEvent(new ArgumentException())));
    }

    [Fact]
    public void BeforeSend_EventsFromLogsWithOnlyTypeNames_AreMatchedToo()
    {
        var fromLog = new SentryEvent
        {
            SentryExceptions = [new SentryException { Type = "Microsoft.AspNetCore.Connections.ConnectionResetException", Value = "reset" }],
        };
        var realError = new SentryEvent
        {
            SentryExceptions = [new SentryException { Type = "System.InvalidOperationException", Value = "x" }],
        };

        Assert.Null(Callbacks().BeforeSend(fromLog));
        Assert.NotNull(Callbacks().BeforeSend(realError));
    }

    [Fact]
    public void IgnoredExceptionFilter_UnwrapsSingleAggregate() =>
        Assert.True(new IgnoredExceptionFilter(ErrorTrackingSettings.DefaultIgnoredExceptions)
            .ShouldDrop(new AggregateException(new ConnectionResetException("x")), requestAborted: false));

    [Fact]
    public void BeforeBreadcrumb_DebugLogBreadcrumbs_AreDropped()
    {
        Assert.Null(Callbacks().BeforeBreadcrumb(new Breadcrumb("cache miss", "default", category: "ContentMax.Cache", level: BreadcrumbLevel.Debug)));
        Assert.NotNull(Callbacks().BeforeBreadcrumb(new Breadcrumb("started", "default", category: "ContentMax.Cache", level: BreadcrumbLevel.Info)));
        Assert.NotNull(Callbacks().BeforeBreadcrumb(new Breadcrumb("failed", "default", level: BreadcrumbLevel.Warning)));
    }

    [Fact]
    public void BeforeBreadcrumb_HttpBreadcrumbs_GetATimestampAndLoseSecrets()
    {
        var original = new Breadcrumb("", "http",
            new Dictionary<string, string> { ["url"] = "http://aggregation/api/metrics?key=abc", ["method"] = "GET", ["status_code"] = "200" },
            "http");

        var kept = Callbacks().BeforeBreadcrumb(original)!;

        Assert.Equal(original.Timestamp.ToUniversalTime().ToString("O"), kept.Data!["timestamp"]);
        Assert.Equal(original.Timestamp.ToUnixTimeMilliseconds(), kept.Timestamp.ToUnixTimeMilliseconds()); // Sentry sends milliseconds.
        Assert.Equal("http://aggregation/api/metrics?key=[Filtered]", kept.Data["url"]);
        Assert.Equal("GET", kept.Data["method"]);
        Assert.Equal("http", kept.Type);
    }

    [Fact]
    public void BeforeBreadcrumb_UnchangedBreadcrumb_IsReturnedAsIs()
    {
        var original = new Breadcrumb("service started", "default");
        Assert.Same(original, Callbacks().BeforeBreadcrumb(original));
    }

    [Fact]
    public void UnroutedRequests_AreNamedMethodPlusUnmatchedRoute()
    {
        Assert.Equal("unmatched route", SentryCallbacks.NameUnroutedTransaction(new DefaultHttpContext()));

        // An error before routing: the event gets the same name, never the path.
        var sentryEvent = new SentryEvent(new InvalidOperationException()) { Request = new SentryRequest { Method = "get", Url = "http://h/api/nodes/123" } };
        Assert.Equal("GET unmatched route", Callbacks().BeforeSend(sentryEvent)!.TransactionName);
    }

    [Fact]
    public void BeforeSendTransaction_RouteNamesAreKept_RawPathNamesAreDropped()
    {
        var routed = new SentryTransaction("GET /api/nodes/{nodeId}", "http.server", TransactionNameSource.Route);
        var custom = new SentryTransaction("GET unmatched route", "http.server", TransactionNameSource.Custom);
        var rawPath = new SentryTransaction("GET /api/nodes/123", "http.server", TransactionNameSource.Url);

        Assert.Equal("GET /api/nodes/{nodeId}", Callbacks().BeforeSendTransaction(routed)!.Name);
        Assert.NotNull(Callbacks().BeforeSendTransaction(custom));
        Assert.Null(Callbacks().BeforeSendTransaction(rawPath));
    }

    [Theory]
    [InlineData("/health", 0.0)]
    [InlineData("/alive", 0.0)]
    [InlineData("/api/metrics", null)]
    public void SampleTransaction_HealthProbesAreNeverSampled(string path, double? expected)
    {
        var context = new SamplingContextFor(path);
        Assert.Equal(expected, SentryCallbacks.SampleTransaction(context.Value));
    }

    private sealed class SamplingContextFor(string path)
    {
        public TransactionSamplingContext Value { get; } = new(
            new TransactionContext("GET x", "http.server"),
            new Dictionary<string, object?> { ["__HttpPath"] = path });
    }
}
