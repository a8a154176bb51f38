using System.Reflection;
using ContentMax.Contracts.Http;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentMax.HealthProbe;

public static class HealthEndpoints
{
    private static readonly string Version =
        typeof(HealthEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/health").WithTags("Health");
        group.MapGet("/", GetHealth).AllowAnonymous().WithName("GetHealth")
            .WithSummary("The system's health from the latest probe results; 503 when unhealthy. details=true needs the read key.");
        group.MapGet("/history", GetHistoryAsync).RequireAuthorization(ApiRoles.Read).WithName("GetHealthHistory")
            .WithSummary("Status changes of every check in a period, newest first and paginated (limit, cursor), and uptime per check.");
        return app;
    }

    public const int DefaultHistoryLimit = 200;
    public const int MaxHistoryLimit = 1000;

    // Reads only HealthState: no dependency is touched while answering.
    internal static Results<JsonHttpResult<HealthResponse>, ChallengeHttpResult, ForbidHttpResult> GetHealth(
        HttpContext context, HealthState state, TimeProvider time, bool details = false)
    {
        if (details)
        {
            // The endpoint is anonymous, so the role is checked here: 401/403 as problem+json from the API-key handler.
            if (context.User.Identity?.IsAuthenticated != true) return TypedResults.Challenge();
            if (!context.User.IsInRole(ApiRoles.Read)) return TypedResults.Forbid();
        }

        var now = time.GetUtcNow();
        var checks = state.All;
        var groups = HealthStatusRules.Groups(checks);
        var status = HealthStatusRules.Overall(groups);
        var errors = checks.Where(s => s.Error is not null).Select(s => s.Error!).ToList();
        var body = new HealthResponse(
            status,
            groups.Prepend(KeyValuePair.Create("api", HealthStatus.Healthy)).ToDictionary(StringComparer.Ordinal),
            errors.Count > 0 ? errors : null,
            now,
            Math.Round((now - state.StartedAt).TotalSeconds, 3),
            Version,
            details
                ? new SortedDictionary<string, CheckDetails>(checks.ToDictionary(s => s.Name,
                    s => new CheckDetails(s.Status, s.Group, s.LatencyMs, s.LastChecked, s.LastSuccess, s.ConsecutiveFailures, s.Error)), StringComparer.Ordinal)
                : null);

        context.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        return TypedResults.Json(body, statusCode: HealthStatusRules.HttpStatusCode(status));
    }

    internal static async Task<Results<Ok<HealthHistoryResponse>, ValidationProblem, ProblemHttpResult>> GetHistoryAsync(
        HealthHistoryStore history, TimeProvider time, ILogger<HealthHistoryStore> logger, CancellationToken cancellationToken,
        string? period = null, string? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Period.TryParse(period, out var window, out var error)) errors["period"] = [error];
        var take = DefaultHistoryLimit;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out take)
            || take < 1 || take > MaxHistoryLimit))
        {
            errors["limit"] = [$"must be a whole number from 1 to {MaxHistoryLimit}"];
        }

        HistoryCursor? after = null;
        if (cursor is not null && !HistoryCursor.TryDecode(cursor, out after)) errors["cursor"] = ["is not a cursor this API returned"];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The query is not valid.");

        var to = time.GetUtcNow();
        var from = to - window;
        try
        {
            var (transitions, next) = await history.ReadPageAsync(from, to, take, after, cancellationToken);
            var uptime = await history.UptimeAsync(from, to, cancellationToken);
            return TypedResults.Ok(new HealthHistoryResponse(period ?? Period.Default, from, to, transitions, uptime, next?.Encode()));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The history lives in the database that may be the very thing that is down.
            logger.LogWarning("Health history unavailable: {Error}", ex.GetType().Name);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The health history is unavailable.",
                detail: "The database that stores it cannot be reached; /api/health still answers.");
        }
    }
}
