using System.Net;
using System.Net.Http.Headers;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Timeout;

namespace ContentMax.UnitTests;

// The decisions of the pipelines in ContentMaxResilience: which answers are
// retried, how long each retry waits, and when they give up. A fake clock runs
// the waits; the delays are read from the OnRetry hook callers use.
public class ResiliencePipelineTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-03-01T00:00:00Z"));

    [Fact]
    public async Task PostHog_RetriesA503_AndReturnsTheSuccess()
    {
        var run = await RunAsync(PostHog(), [Answer(HttpStatusCode.ServiceUnavailable), Answer(HttpStatusCode.OK)]);

        Assert.Equal(HttpStatusCode.OK, run.Response.StatusCode);
        Assert.Equal(2, run.Attempts);
    }

    [Fact]
    public async Task PostHog_On429_WaitsRetryAfter_AtMostFiveMinutes()
    {
        var run = await RunAsync(PostHog(), [Answer(HttpStatusCode.TooManyRequests, retryAfter: 7), Answer(HttpStatusCode.TooManyRequests, retryAfter: 3600), Answer(HttpStatusCode.OK)]);

        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromMinutes(5)], run.Delays);
        Assert.Equal(HttpStatusCode.OK, run.Response.StatusCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    public async Task PostHog_GivesUpOnOtherClientErrors_AtOnce(HttpStatusCode status)
    {
        var run = await RunAsync(PostHog(), [Answer(status), Answer(HttpStatusCode.OK)]);

        Assert.Equal(status, run.Response.StatusCode);
        Assert.Equal(1, run.Attempts);
    }

    [Fact]
    public async Task PostHog_BacksOffWithJitter_UpToTheCap_ForMaxRetries()
    {
        var run = await RunAsync(PostHog(o => { o.MaxRetries = 5; o.RetryBaseDelay = TimeSpan.FromSeconds(1); o.RetryMaxDelay = TimeSpan.FromSeconds(3); }),
            Enumerable.Range(0, 10).Select(_ => Answer(HttpStatusCode.BadGateway)).ToArray());

        Assert.Equal(6, run.Attempts);
        Assert.Equal(HttpStatusCode.BadGateway, run.Response.StatusCode);
        Assert.InRange(run.Delays[0].TotalSeconds, 0.8, 1.2);
        Assert.InRange(run.Delays[1].TotalSeconds, 1.6, 2.4);
        Assert.All(run.Delays.Skip(2), d => Assert.InRange(d.TotalSeconds, 2.4, 3.0));
    }

    [Fact]
    public async Task PostHog_RetriesAnAttemptThatTimesOut()
    {
        var pipeline = PostHog(o => o.RequestTimeout = TimeSpan.FromSeconds(2));
        var attempts = 0;
        var context = ResilienceContextPool.Shared.Get();
        var running = pipeline.ExecuteAsync(async c =>
        {
            if (++attempts == 1) await Task.Delay(TimeSpan.FromMinutes(1), _time, c.CancellationToken);
            return Answer(HttpStatusCode.OK);
        }, context).AsTask();

        var response = await DriveAsync(running);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Datadog_On429_WaitsForTheRateLimitReset()
    {
        var limited = Answer(HttpStatusCode.TooManyRequests);
        limited.Headers.Add("X-RateLimit-Reset", "12");

        var run = await RunAsync(Datadog(), [limited, Answer(HttpStatusCode.OK)]);

        Assert.Equal([TimeSpan.FromSeconds(12)], run.Delays);
    }

    [Fact]
    public async Task Datadog_BackoffDoubles_UpTo60Seconds()
    {
        using var stop = new CancellationTokenSource();
        var delays = new List<TimeSpan>();
        var context = ResilienceContextPool.Shared.Get(stop.Token);
        context.Properties.Set(ContentMaxResilience.OnRetry, retry =>
        {
            delays.Add(retry.RetryDelay);
            if (delays.Count == 9) stop.Cancel();
            return ValueTask.CompletedTask;
        });

        var running = Datadog().ExecuteAsync(_ => ValueTask.FromResult(Answer(HttpStatusCode.ServiceUnavailable)), context).AsTask();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DriveAsync(running));
        Assert.Equal(new[] { 1, 2, 4, 8, 16, 32, 60, 60, 60 }.Select(s => TimeSpan.FromSeconds(s)), delays);
    }

    [Fact]
    public async Task Datadog_StopsRetrying_WhenTheNextWaitWouldPassTheDeadline()
    {
        // 1+2+4+8+16+32 = 63 s of waits fit in 100 s; the next (60 s) would not.
        var run = await RunAsync(Datadog(), Enumerable.Range(0, 20).Select(_ => Answer(HttpStatusCode.InternalServerError)).ToArray(),
            deadline: _time.GetUtcNow() + TimeSpan.FromSeconds(100));

        Assert.Equal(7, run.Attempts);
        Assert.Equal(HttpStatusCode.InternalServerError, run.Response.StatusCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    public async Task Datadog_LeavesClientErrorsToTheCaller(HttpStatusCode status)
    {
        var run = await RunAsync(Datadog(), [Answer(status), Answer(HttpStatusCode.OK)]);

        Assert.Equal(1, run.Attempts);
        Assert.Equal(status, run.Response.StatusCode);
    }

    [Fact]
    public async Task HealthStatusPublish_TriesThreeTimes_OneThenTwoSecondsApart()
    {
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = _time }.AddHealthStatusPublish(new ResilienceOptions()).Build();
        var attempts = new List<DateTimeOffset>();

        var running = pipeline.ExecuteAsync(_ =>
        {
            attempts.Add(_time.GetUtcNow());
            throw new InvalidOperationException("broker away");
        }).AsTask();

        await Assert.ThrowsAsync<InvalidOperationException>(() => DriveAsync(running.ContinueWith(t => { t.GetAwaiter().GetResult(); return 0; }, TaskScheduler.Default)));
        Assert.Equal(3, attempts.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), attempts[1] - attempts[0]);
        Assert.Equal(TimeSpan.FromSeconds(2), attempts[2] - attempts[1]);
    }

    [Fact]
    public async Task WebhookAttempt_IsBoundedByTheCallersTimeout_AndNotRetried()
    {
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = _time }.AddWebhookAttempt().Build();
        var context = ResilienceContextPool.Shared.Get();
        context.Properties.Set(ContentMaxResilience.AttemptTimeout, TimeSpan.FromSeconds(3));
        var attempts = 0;

        var running = pipeline.ExecuteAsync(async (c, _) =>
        {
            attempts++;
            await Task.Delay(TimeSpan.FromMinutes(1), _time, c.CancellationToken);
            return 0;
        }, context, 0).AsTask();

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => DriveAsync(running));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task BackgroundLoops_TurnDegraded_OnlyWhenALoopStopsCycling()
    {
        var loops = new BackgroundLoops(_time);
        loops.Cycled("retention", TimeSpan.FromMinutes(1), failure: null);
        loops.Cycled("forwarder", TimeSpan.FromSeconds(1), failure: "HttpRequestException: refused");

        _time.Advance(TimeSpan.FromMinutes(5));
        var healthy = await loops.CheckHealthAsync(new HealthCheckContext());
        _time.Advance(TimeSpan.FromMinutes(2));
        loops.Cycled("forwarder", TimeSpan.FromSeconds(1), failure: null);
        var degraded = await loops.CheckHealthAsync(new HealthCheckContext());
        loops.Ended("retention");
        var ended = await loops.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal("HttpRequestException: refused", healthy.Data["forwarder"]);
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains("retention", degraded.Description);
        Assert.DoesNotContain("forwarder", degraded.Description);
        Assert.Equal(HealthStatus.Healthy, ended.Status);
    }

    private ResiliencePipeline<HttpResponseMessage> PostHog(Action<PostHogOptions>? configure = null)
    {
        var options = new PostHogOptions { ProjectApiKey = "phc_test", RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        return new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }.AddPostHogBatch(options, _time).Build();
    }

    private ResiliencePipeline<HttpResponseMessage> Datadog() =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }.AddDatadogIntake(new ResilienceOptions(), _time).Build();

    private static HttpResponseMessage Answer(HttpStatusCode status, int? retryAfter = null)
    {
        var response = new HttpResponseMessage(status);
        if (retryAfter is { } seconds) response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        return response;
    }

    private sealed record Run(HttpResponseMessage Response, int Attempts, List<TimeSpan> Delays);

    // Answers with `answers` in turn and records each retry's delay.
    private async Task<Run> RunAsync(ResiliencePipeline<HttpResponseMessage> pipeline, HttpResponseMessage[] answers, DateTimeOffset? deadline = null)
    {
        var delays = new List<TimeSpan>();
        var attempts = 0;
        var context = ResilienceContextPool.Shared.Get();
        if (deadline is { } until) context.Properties.Set(ContentMaxResilience.Deadline, until);
        context.Properties.Set(ContentMaxResilience.OnRetry, retry =>
        {
            delays.Add(retry.RetryDelay);
            return ValueTask.CompletedTask;
        });

        var running = pipeline.ExecuteAsync(_ => ValueTask.FromResult(answers[attempts++]), context).AsTask();
        var response = await DriveAsync(running);
        return new Run(response, attempts, delays);
    }

    // Moves the fake clock a second at a time until the pipeline is done.
    private async Task<T> DriveAsync<T>(Task<T> running)
    {
        for (var step = 0; !running.IsCompleted && step < 100_000; step++)
        {
            await Task.Delay(2);
            if (!running.IsCompleted) _time.Advance(TimeSpan.FromSeconds(1));
        }

        return await running;
    }
}
