using System.Net;
using ContentMax.ServiceDefaults.Analytics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ContentMax.ServiceDefaults.Resilience;

// Every outbound call ContentMax retries is one of the named Polly pipelines
// defined here, registered once by AddServiceDefaults with AddResiliencePipeline
// (so Polly's logs and its "Polly" meter report each retry and timeout) and
// taken by name from ResiliencePipelineProvider<string>:
// - posthog-batch: a PostHog /batch/ post. 5xx, 408, 429, timeouts and network
//   errors retried PostHog:MaxRetries times, base × 2^n ±20 % up to
//   RetryMaxDelay; a 429 waits its Retry-After (at most 5 min). Other 4xx are final.
// - datadog-intake: a Datadog series/distribution post. 5xx, 408, timeouts and
//   network errors retried, 1 s doubling to 60 s; a 429 waits X-RateLimit-Reset
//   (1 s to 5 min) or Retry-After. It retries until the caller's Deadline,
//   never past it; 400, 401, 403, 413 and other 4xx are final, for the caller.
// - health-status-publish: a HealthStatusChanged publish; any failure retried,
//   3 attempts in all, 1 s then 2 s apart, each at most 5 s.
// - webhook-attempt: one alert notification's single attempt, bounded by the
//   caller's AttemptTimeout. It never retries: the retry of a notification is a
//   row in alert_notifications (next_attempt_at), which survives restarts.
//
// A caller passes what is its own in the ResilienceContext: what to do on a
// retry (OnRetry: count, log), its Deadline, its AttemptTimeout.
//
// Where one of these pipelines drives an HttpClient, the client must not have
// the standard resilience handler that ConfigureHttpClientDefaults gives every
// client: two layers would retry a 503 three times per attempt and decide a
// 429's wait twice. Such clients call WithoutStandardResilience (or, like
// PostHogApi, are not made by IHttpClientFactory at all).
public static class ContentMaxResilience
{
    public const string PostHogBatch = "posthog-batch";
    public const string DatadogIntake = "datadog-intake";
    public const string HealthStatusPublish = "health-status-publish";
    public const string WebhookAttempt = "webhook-attempt";

    // The longest Retry-After PostHog may make a batch wait.
    public static readonly TimeSpan PostHogMaxRetryAfter = TimeSpan.FromMinutes(5);

    public static readonly ResiliencePropertyKey<Func<OnRetryArguments<HttpResponseMessage>, ValueTask>> OnRetry = new("contentmax.on-retry");
    public static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("contentmax.deadline");
    public static readonly ResiliencePropertyKey<TimeSpan> AttemptTimeout = new("contentmax.attempt-timeout");

    public static TBuilder AddContentMaxResilience<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.AddResiliencePipeline<string, HttpResponseMessage>(PostHogBatch, (pipeline, context) => pipeline.AddPostHogBatch(
            context.ServiceProvider.GetRequiredService<IOptions<PostHogOptions>>().Value, Time(pipeline, context.ServiceProvider)));
        services.AddResiliencePipeline<string, HttpResponseMessage>(DatadogIntake, (pipeline, context) => pipeline.AddDatadogIntake(
            context.ServiceProvider.GetRequiredService<IOptions<ResilienceOptions>>().Value, Time(pipeline, context.ServiceProvider)));
        services.AddResiliencePipeline(HealthStatusPublish, (pipeline, context) => pipeline.AddHealthStatusPublish(
            context.ServiceProvider.GetRequiredService<IOptions<ResilienceOptions>>().Value));
        services.AddResiliencePipeline(WebhookAttempt, (pipeline, _) => pipeline.AddWebhookAttempt());
        return builder;
    }

    // The one documented opt-out of the standard handler (see above); marked experimental by its package.
    public static IHttpClientBuilder WithoutStandardResilience(this IHttpClientBuilder client)
    {
#pragma warning disable EXTEXP0001
        return client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }

    public static ResiliencePipelineBuilder<HttpResponseMessage> AddPostHogBatch(
        this ResiliencePipelineBuilder<HttpResponseMessage> pipeline, PostHogOptions options, TimeProvider time)
    {
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    (args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests ? RetryAfter(args.Outcome.Result, time, PostHogMaxRetryAfter) : null)
                    ?? JitteredBackoff(args.AttemptNumber, options.RetryBaseDelay, options.RetryMaxDelay)),
                OnRetry = CallersOnRetry,
            });
        }

        return pipeline.AddTimeout(options.RequestTimeout);
    }

    public static ResiliencePipelineBuilder<HttpResponseMessage> AddDatadogIntake(
        this ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceOptions options, TimeProvider time) =>
        pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = int.MaxValue,
            // Retried while the wait ends before the caller's deadline; past it the last answer is the caller's.
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context)
                && time.GetUtcNow() + DatadogDelay(args.Outcome, args.AttemptNumber, options) <= args.Context.Properties.GetValue(Deadline, DateTimeOffset.MaxValue)),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(DatadogDelay(args.Outcome, args.AttemptNumber, options)),
            OnRetry = CallersOnRetry,
        });

    public static ResiliencePipelineBuilder AddHealthStatusPublish(this ResiliencePipelineBuilder pipeline, ResilienceOptions options) =>
        pipeline
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.HealthPublishAttempts - 1,
                BackoffType = DelayBackoffType.Linear,
                Delay = options.HealthPublishDelay,
                UseJitter = false,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
            })
            .AddTimeout(options.HealthPublishTimeout);

    public static ResiliencePipelineBuilder AddWebhookAttempt(this ResiliencePipelineBuilder pipeline) =>
        pipeline.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(AttemptTimeout, TimeSpan.FromSeconds(10))),
        });

    // 5xx, 408, 429, a timeout or a network error: worth another attempt.
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome, ResilienceContext context) => outcome switch
    {
        { Result: { } response } => response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500,
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Exception: OperationCanceledException } => !context.CancellationToken.IsCancellationRequested,
        _ => false,
    };

    // base × 2^attempt, ±20 % so that many instances do not retry in step, capped.
    public static TimeSpan JitteredBackoff(int attempt, TimeSpan first, TimeSpan max)
    {
        var exponential = first.TotalMilliseconds * Math.Pow(2, attempt);
        var jittered = exponential * (0.8 + Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(jittered, max.TotalMilliseconds));
    }

    // Retry-After as a delay or a date, between zero and max; null without one.
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time, TimeSpan max)
    {
        var header = response.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        if (delay is null) return null;
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > max ? max : delay;
    }

    // Datadog's X-RateLimit-Reset (seconds until the window resets, 1 s to 5 min), else Retry-After.
    public static TimeSpan? RateLimitReset(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-RateLimit-Reset", out var values) && int.TryParse(values.FirstOrDefault(), out var seconds)
            ? TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 300))
            : response.Headers.RetryAfter?.Delta;

    private static TimeSpan DatadogDelay(Outcome<HttpResponseMessage> outcome, int attempt, ResilienceOptions options)
    {
        var backoff = TimeSpan.FromTicks((long)Math.Min(options.DatadogFirstDelay.Ticks * Math.Pow(2, Math.Min(attempt, 40)), options.DatadogMaxDelay.Ticks));
        return outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } limited ? RateLimitReset(limited) ?? backoff : backoff;
    }

    private static ValueTask CallersOnRetry(OnRetryArguments<HttpResponseMessage> args) =>
        args.Context.Properties.TryGetValue(OnRetry, out var onRetry) ? onRetry(args) : ValueTask.CompletedTask;

    private static TimeProvider Time(ResiliencePipelineBuilderBase pipeline, IServiceProvider services) =>
        pipeline.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
}
