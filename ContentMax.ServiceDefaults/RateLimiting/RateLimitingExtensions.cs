using System.Globalization;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ContentMax.ServiceDefaults.RateLimiting;

public static class RateLimitingExtensions
{
    public static IHostApplicationBuilder AddApiKeyRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IRateLimitStore, InstanceRateLimitStore>();
        builder.Services.TryAddSingleton<KeyRateLimiter>();
        return builder;
    }

    // Counts every request that authenticated with an API key against the key's
    // requests-per-second limit, and answers 429 over it. Goes after
    // UseAuthentication, before UseAuthorization. Anonymous endpoints (health,
    // OpenAPI) are not counted.
    public static IApplicationBuilder UseApiKeyRateLimits(this IApplicationBuilder app)
    {
        var limiter = app.ApplicationServices.GetRequiredService<KeyRateLimiter>();
        return app.Use(async (context, next) =>
        {
            if (context.User.FindFirst(ApiKeyClaims.KeyName)?.Value is { } name
                && context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is null
                && !await limiter.AcquireRequestAsync(context, name, context.User.FindFirst(ApiKeyClaims.KeyRole)?.Value ?? ""))
            {
                return;
            }

            await next(context);
        });
    }

    // Counts one request against the key's requests-per-second limit. False
    // when it is over: the 429 problem has then been written.
    public static async ValueTask<bool> AcquireRequestAsync(this KeyRateLimiter limiter, HttpContext context, string name, string role)
    {
        var decision = await limiter.AcquireAsync(name, role, RateLimitKind.Requests, 1, context.RequestAborted);
        if (decision.IsAllowed) return true;

        await WriteTooManyRequestsAsync(context, name, RateLimitKind.Requests, decision);
        return false;
    }

    // Counts `count` units (metrics) for the request's key; null when allowed,
    // or the 429 to answer.
    public static async Task<ProblemHttpResult?> CheckRateLimitAsync(this HttpContext context, RateLimitKind kind, long count)
    {
        if (context.User.FindFirst(ApiKeyClaims.KeyName)?.Value is not { } name)
        {
            return null;
        }

        var limiter = context.RequestServices.GetRequiredService<KeyRateLimiter>();
        return await limiter.CheckAsync(context, name, context.User.FindFirst(ApiKeyClaims.KeyRole)?.Value ?? "", kind, count);
    }

    // The same for a key the caller has already identified (ingestion's fast
    // lane): no claims to search, no request scope to resolve the limiter from.
    public static async ValueTask<ProblemHttpResult?> CheckAsync(this KeyRateLimiter limiter, HttpContext context, string name, string role, RateLimitKind kind, long count)
    {
        var decision = await limiter.AcquireAsync(name, role, kind, count, context.RequestAborted);
        if (decision.IsAllowed)
        {
            return null;
        }

        SetRetryAfter(context, decision);
        return TypedResults.Problem(Problem(name, kind, decision, count));
    }

    private static async Task WriteTooManyRequestsAsync(HttpContext context, string name, RateLimitKind kind, RateLimitDecision decision)
    {
        SetRetryAfter(context, decision);
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = Problem(name, kind, decision, 1) });
    }

    private static void SetRetryAfter(HttpContext context, RateLimitDecision decision) =>
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    // Names the key (its configured name, never the key) and the limit, so the
    // client's owner can tell which limit to ask to have raised.
    private static ProblemDetails Problem(string name, RateLimitKind kind, RateLimitDecision decision, long count)
    {
        var unit = kind == RateLimitKind.Requests ? "requests" : "metrics";
        var limit = decision.LimitPerSecond.ToString("0.##", CultureInfo.InvariantCulture);
        return new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many requests",
            Detail = decision.RequestTooLarge
                ? $"This request carries {count} {unit}, more than the API key '{name}' may send in one rate-limit window ({limit} per second). Send smaller batches."
                : $"The API key '{name}' is over its limit of {limit} {unit} per second. Retry after the Retry-After header's seconds.",
        };
    }
}
