using System.Security.Claims;
using ContentMax.Contracts.Http;
using ContentMax.HealthProbe;
using ContentMax.HealthProbe.Checks;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentMax.UnitTests;

// /api/health's handler over a HealthState filled by hand: the contract, the
// status code and the details rule, without any server.
public class HealthProbeEndpointTests
{
    private sealed class NamedCheck(string name, string group) : IHealthProbeCheck
    {
        public string Name => name;

        public string Group => group;

        public Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken) => Task.FromResult(ProbeOutcome.Success);
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }

    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
    private readonly HealthState _state;

    public HealthProbeEndpointTests()
    {
        _state = new HealthState(new ProbeCatalog(
        [
            new NamedCheck("database", CheckGroups.Database), new NamedCheck("cache", CheckGroups.Cache),
            new NamedCheck("messaging", CheckGroups.Messaging), new NamedCheck("service:ingestion", CheckGroups.Services),
            new NamedCheck("service:aggregation", CheckGroups.Services), new NamedCheck("external:shopify", CheckGroups.External),
        ]), _time);
    }

    private void Set(string name, string group, string status, string? error = null) =>
        _state.Set(new CheckState(name, group, status, 1.5, _time.GetUtcNow(), status == HealthStatus.Healthy ? _time.GetUtcNow() : null, error,
            status == HealthStatus.Healthy ? 0 : 3));

    private void AllHealthy()
    {
        foreach (var check in _state.All) Set(check.Name, check.Group, HealthStatus.Healthy);
    }

    private (HttpContext Context, JsonHttpResult<HealthResponse>? Json, IResult Result) Get(bool details = false, params string[] roles)
    {
        var context = new DefaultHttpContext();
        if (roles.Length > 0)
        {
            context.User = new ClaimsPrincipal(new ClaimsIdentity(roles.Select(r => new Claim(ClaimTypes.Role, r)), "ApiKey"));
        }

        var result = HealthEndpoints.GetHealth(context, _state, _time, details).Result;
        return (context, result as JsonHttpResult<HealthResponse>, result);
    }

    [Fact]
    public void BeforeTheFirstProbe_EveryCheckIsUnknown_AndTheSystemDegraded()
    {
        var (context, json, _) = Get();

        Assert.Equal(200, json!.StatusCode);
        Assert.Equal(HealthStatus.Degraded, json.Value!.Status);
        Assert.Equal(["api", "cache", "database", "external", "messaging", "services"], json.Value.Checks.Keys.Order());
        Assert.Equal(HealthStatus.Healthy, json.Value.Checks["api"]);
        Assert.All(json.Value.Checks.Where(c => c.Key != "api"), c => Assert.Equal(HealthStatus.Unknown, c.Value));
        Assert.Null(json.Value.Errors);
        Assert.Null(json.Value.Details);
        Assert.Equal("no-cache, no-store, must-revalidate", context.Response.Headers.CacheControl.ToString());
    }

    [Fact]
    public void AllHealthy_IsHealthy_WithUptimeAndVersion()
    {
        AllHealthy();
        _time.Advance(TimeSpan.FromSeconds(90.5));

        var (_, json, _) = Get();

        Assert.Equal(200, json!.StatusCode);
        Assert.Equal(HealthStatus.Healthy, json.Value!.Status);
        Assert.Equal(90.5, json.Value.Uptime);
        Assert.Equal(_time.GetUtcNow(), json.Value.Timestamp);
        Assert.False(string.IsNullOrEmpty(json.Value.Version));
    }

    [Fact]
    public void DatabaseDown_Is503_WithItsErrorOnly()
    {
        AllHealthy();
        Set("database", CheckGroups.Database, HealthStatus.Unhealthy, "database: connection refused");

        var (_, json, _) = Get();

        Assert.Equal(503, json!.StatusCode);
        Assert.Equal(HealthStatus.Unhealthy, json.Value!.Status);
        Assert.Equal(["database: connection refused"], json.Value.Errors!);
    }

    [Fact]
    public void OneOfTwoServicesDown_DegradesTheServicesGroup_With200()
    {
        AllHealthy();
        Set("service:aggregation", CheckGroups.Services, HealthStatus.Unhealthy, "service:aggregation: answered HTTP 503, expected 200");

        var (_, json, _) = Get();

        Assert.Equal(200, json!.StatusCode);
        Assert.Equal(HealthStatus.Degraded, json.Value!.Checks[CheckGroups.Services]);
        Assert.Equal(HealthStatus.Degraded, json.Value.Status);
    }

    [Fact]
    public void Details_WithoutAKey_Challenge_WithTheWrongRole_Forbid()
    {
        Assert.IsType<ChallengeHttpResult>(Get(details: true).Result);
        Assert.IsType<ForbidHttpResult>(Get(true, ApiRoles.Ingest).Result);
    }

    [Fact]
    public void Details_WithTheReadRole_DescribeEveryCheck()
    {
        AllHealthy();
        Set("cache", CheckGroups.Cache, HealthStatus.Degraded, "cache: timed out after 2s");

        var (_, json, _) = Get(true, ApiRoles.Read);

        var details = json!.Value!.Details!;
        Assert.Equal(_state.All.Select(s => s.Name).Order(StringComparer.Ordinal), details.Keys);
        Assert.Equal(HealthStatus.Degraded, details["cache"].Status);
        Assert.Equal("cache: timed out after 2s", details["cache"].Error);
        Assert.Equal(3, details["cache"].ConsecutiveFailures);
        Assert.Equal(1.5, details["database"].LatencyMs);
        Assert.NotNull(details["database"].LastSuccess);
    }
}
