using System.Diagnostics;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Trace;

namespace ContentMax.UnitTests;

public class HighVolumeTracingTests
{
    private static HttpRequest Request(string method, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        return context.Request;
    }

    private static Activity Recorded() => new Activity("request") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.Start();

    [Theory]
    [InlineData("POST", "/api/metrics", true)]
    [InlineData("POST", "/api/metrics/", true)]
    [InlineData("POST", "/v1/metrics", true)]
    [InlineData("POST", "/api/v1/write", true)]
    [InlineData("GET", "/api/metrics", false)]
    [InlineData("POST", "/api/alerts", false)]
    [InlineData("POST", "/api/metrics/raw", false)]
    public void IsHighVolume_OnlyTheIngestPosts(string method, string path, bool expected) =>
        Assert.Equal(expected, HighVolumeTracing.IsHighVolume(Request(method, path)));

    [Fact]
    public void RequestLeftOutOfTheSample_IsNotRecorded_UntilItEndsInAnError()
    {
        var tracing = new HighVolumeTracing(sampleRate: 0);
        using var ok = Recorded();
        tracing.OnRequest(ok, Request("POST", "/api/metrics"));
        HighVolumeTracing.OnResponse(ok, new DefaultHttpContext { Response = { StatusCode = 202 } }.Response);
        Assert.False(ok.Recorded);

        using var failed = Recorded();
        tracing.OnRequest(failed, Request("POST", "/api/metrics"));
        HighVolumeTracing.OnResponse(failed, new DefaultHttpContext { Response = { StatusCode = 503 } }.Response);
        Assert.True(failed.Recorded);
    }

    [Fact]
    public void OtherRoutes_AndTheSampledShare_StayRecorded()
    {
        using var query = Recorded();
        new HighVolumeTracing(sampleRate: 0).OnRequest(query, Request("GET", "/api/metrics"));
        Assert.True(query.Recorded);

        using var sampled = Recorded();
        new HighVolumeTracing(sampleRate: 1).OnRequest(sampled, Request("POST", "/api/metrics"));
        Assert.True(sampled.Recorded);
    }

    [Fact]
    public void RootSampler_SamplesTheStorageConsumerOnly_AsRecordOnlyOutsideTheSample()
    {
        var sampler = new HighVolumeTracing(sampleRate: 0).RootSampler();
        SamplingParameters Root(string name) => new(default, ActivityTraceId.CreateRandom(), name, ActivityKind.Consumer);

        Assert.Equal(SamplingDecision.RecordOnly, sampler.ShouldSample(Root(HighVolumeTracing.ConsumerEndpoint + " receive")).Decision);
        Assert.Equal(SamplingDecision.RecordAndSample, sampler.ShouldSample(Root("GET /api/metrics")).Decision);
        Assert.Equal(SamplingDecision.RecordAndSample,
            new HighVolumeTracing(sampleRate: 1).RootSampler().ShouldSample(Root(HighVolumeTracing.ConsumerEndpoint + " process")).Decision);
    }

    [Fact]
    public void ErrorKeeper_MarksFailedSpansForExport()
    {
        using var activity = new Activity("metrics-storage process").Start();
        activity.SetStatus(ActivityStatusCode.Error);
        new HighVolumeTracing.ErrorKeeper().OnEnd(activity);
        Assert.True(activity.Recorded);
    }

    [Fact]
    public void ConsumerEndpoint_IsTheStorageQueue() =>
        Assert.Equal(MessagingTopology.MetricsStorageQueue, HighVolumeTracing.ConsumerEndpoint);
}
