using System.Net.Sockets;
using ContentMax.HealthProbe;
using ContentMax.HealthProbe.Checks;

namespace ContentMax.UnitTests;

public class HealthStatusRulesTests
{
    private const string H = HealthStatus.Healthy, D = HealthStatus.Degraded, U = HealthStatus.Unhealthy, X = HealthStatus.Unknown;

    private static Dictionary<string, string> Groups(string database = H, string cache = H, string messaging = H, string services = H, string external = H) => new()
    {
        [CheckGroups.Database] = database,
        [CheckGroups.Cache] = cache,
        [CheckGroups.Messaging] = messaging,
        [CheckGroups.Services] = services,
        [CheckGroups.External] = external,
    };

    [Fact]
    public void AllHealthy_IsHealthy() => Assert.Equal(H, HealthStatusRules.Overall(Groups()));

    [Theory]
    [InlineData(CheckGroups.Database)]
    [InlineData(CheckGroups.Messaging)]
    public void DatabaseOrMessagingDown_IsUnhealthy(string group)
    {
        var groups = Groups();
        groups[group] = U;
        Assert.Equal(U, HealthStatusRules.Overall(groups));
    }

    [Fact]
    public void CacheDown_IsDegraded() => Assert.Equal(D, HealthStatusRules.Overall(Groups(cache: D)));

    [Fact]
    public void ExternalDown_IsDegraded() => Assert.Equal(D, HealthStatusRules.Overall(Groups(external: D)));

    [Fact]
    public void OneServiceDown_IsDegraded_AllServicesDown_IsUnhealthy()
    {
        Assert.Equal(D, HealthStatusRules.Overall(Groups(services: D)));
        Assert.Equal(U, HealthStatusRules.Overall(Groups(services: U)));
    }

    [Fact]
    public void UnknownBeforeTheFirstProbe_IsDegradedNotHealthy() => Assert.Equal(D, HealthStatusRules.Overall(Groups(database: X)));

    [Fact]
    public void DatabaseDownWinsOverEverythingElse() => Assert.Equal(U, HealthStatusRules.Overall(Groups(database: U, cache: D, external: D)));

    [Fact]
    public void FailureStatus_CacheAndExternalAreOptional()
    {
        Assert.Equal(D, HealthStatusRules.FailureStatus(CheckGroups.Cache));
        Assert.Equal(D, HealthStatusRules.FailureStatus(CheckGroups.External));
        Assert.Equal(U, HealthStatusRules.FailureStatus(CheckGroups.Database));
        Assert.Equal(U, HealthStatusRules.FailureStatus(CheckGroups.Messaging));
        Assert.Equal(U, HealthStatusRules.FailureStatus(CheckGroups.Services));
    }

    private static CheckState State(string status) => new("c" + Guid.NewGuid().ToString("N")[..4], CheckGroups.Services, status, null, null, null, null, 0);

    [Fact]
    public void GroupStatus_CombinesItsChecks()
    {
        Assert.Equal(H, HealthStatusRules.GroupStatus([State(H), State(H)]));
        Assert.Equal(D, HealthStatusRules.GroupStatus([State(H), State(U)]));
        Assert.Equal(U, HealthStatusRules.GroupStatus([State(U), State(U)]));
        Assert.Equal(D, HealthStatusRules.GroupStatus([State(U), State(X)]));
        Assert.Equal(X, HealthStatusRules.GroupStatus([State(X)]));
        Assert.Equal(D, HealthStatusRules.GroupStatus([State(D), State(D)]));
    }

    private static readonly DateTimeOffset From = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Uptime_FromTransitions()
    {
        // Healthy before the period, down from 06:00 to 09:00 of a 24h period: 87.5%.
        var uptime = HealthStatusRules.UptimePercent(H, [(From.AddHours(6), U), (From.AddHours(9), H)], From, From.AddHours(24));
        Assert.Equal(87.5, uptime!.Value, 9);
    }

    [Fact]
    public void Uptime_LeavesUnknownTimeOut()
    {
        // First seen at 12:00 (unknown before), healthy until 18:00, then down: 50% of the known 12 hours.
        var uptime = HealthStatusRules.UptimePercent(null, [(From.AddHours(12), H), (From.AddHours(18), U)], From, From.AddHours(24));
        Assert.Equal(50, uptime!.Value, 9);
    }

    [Fact]
    public void Uptime_NothingKnown_IsNull() => Assert.Null(HealthStatusRules.UptimePercent(null, [], From, From.AddHours(1)));

    [Fact]
    public void Uptime_DegradedCountsAsNotUp() =>
        Assert.Equal(0, HealthStatusRules.UptimePercent(D, [], From, From.AddHours(1))!.Value);

    [Fact]
    public void ProbeErrors_SayWhatHappenedWithoutHostsOrStacks()
    {
        var timeout = TimeSpan.FromSeconds(2);
        Assert.Equal("timed out after 2s", ProbeErrors.Describe(new OperationCanceledException(), timeout));
        Assert.Equal("connection refused", ProbeErrors.Describe(
            new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5190", new SocketException((int)SocketError.ConnectionRefused)), timeout));
        Assert.Equal("host not found", ProbeErrors.Describe(
            new HttpRequestException(HttpRequestError.NameResolutionError, "No such host is known (www.googleapis.com:443)"), timeout));
        Assert.Equal("not connected", ProbeErrors.Describe(
            new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect, "127.0.0.1:5191 password=secret"), timeout));
        Assert.Equal("InvalidOperationException", ProbeErrors.Describe(new InvalidOperationException("Host=db;Password=secret"), timeout));
    }
}
