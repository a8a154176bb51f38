using System.Reflection;
using System.Text.Json.Serialization;
using ContentMax.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentMax.HealthProbe;

public static class HealthEndpoints
{
    private static readonly string Version =
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/health").WithTags("Health");
        group.MapGet("/", GetHealth).AllowAnonymous().WithName("GetHealth")
            .WithSummary("The system's health from the latest probe results; 503 when unhealthy. details=true needs the read key.");
        group.MapGet("/history", GetHistoryAsync).RequireAuthorization(ApiRoles.Read).WithName("GetHealthHistory")
            .WithSummary("Status changes of every check in a period, and uptime per check.");
        return app;
    }

    public sealed record CheckDetails(string Status, string Group, double? LatencyMs, DateTimeOffset? LastChecked, DateTimeOffset? LastSuccess,
        int ConsecutiveFailures, string? Error);

    public sealed record HealthResponse(
        string Status,
        IReadOnlyDictionary<string, string> Checks,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<string>? Errors,
        DateTimeOffset Timestamp,
        double Uptime,
        string Version,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SortedDictionary<string, CheckDetails>? Details);

    public sealed record HistoryResponse(string Period, DateTimeOffset From, DateTimeOffset To, List<HealthHistoryStore.Transition> Transitions,
        SortedDictionary<string, double> Uptime);

    internal static Results<JsonHttpResult<HealthResponse>, ChallengeHttpResult, ForbidHttpResult> GetHealth(
        HttpContext context, HealthState state, TimeProvider time, bool details = false)
    {
        if (details)
        {
            if (context.User.Identity?.IsAuthenticated != true) return TypedResults.Challenge();
            if (!context.User.IsInRole(ApiRoles.Read)) return TypedResults.Forbid();
        }

        var now = time.GetUtcNow();
        var groups = state.Groups();
        var checks = new Dictionary<string, string>(groups) { ["api"] = HealthStatus.Healthy };
        var status = HealthStatusRules.Overall(groups);
        var errors = state.All.Where(s => s.Error is not null).Select(s => s.Error!).ToList();
        var body = new HealthResponse(
            status,
            checks,
            errors.Count > 0 ? errors : null,
            now,
            Math.Round((now - state.StartedAt).TotalSeconds, 3),
            Version,
            details
                ? new SortedDictionary<string, CheckDetails>(state.All.ToDictionary(s => s.Name,
                    s => new CheckDetails(s.Status, s.Group, s.LatencyMs, s.LastChecked, s.LastSuccess, s.ConsecutiveFailures, s.Error)), StringComparer.Ordinal)
                : null);

        context.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        return TypedResults.Json(body, statusCode: status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    internal static async Task<Results<Ok<HistoryResponse>, ValidationProblem>> GetHistoryAsync(
        HealthHistoryStore history, HealthState state, TimeProvider time, CancellationToken cancellationToken, string? period = null)
    {
        if (!Period.TryParse(period, out var window, out var error))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["period"] = [error] }, title: "The query is not valid.");
        }

        var to = time.GetUtcNow();
        var from = to - window;
        var (transitions, before) = await history.ReadAsync(from, to, cancellationToken);
        var names = state.All.Select(s => s.Name).Concat(transitions.Select(t => t.Check)).Distinct(StringComparer.Ordinal);
        var uptime = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var percent = HealthStatusRules.UptimePercent(before.GetValueOrDefault(name),
                transitions.Where(t => t.Check == name).Select(t => (t.ChangedAt, t.Status)), from, to);
            if (percent is { } p) uptime[name] = Math.Round(p, 3);
        }

        return TypedResults.Ok(new HistoryResponse(period ?? Period.Default, from, to, transitions, uptime));
    }
}
