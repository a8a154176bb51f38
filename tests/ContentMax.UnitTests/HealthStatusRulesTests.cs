using ContentMax.HealthProbe;

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

    // Every combination of the five groups' statuses (4^5 = 1024).
    public static TheoryData<string, string, string, string, string> AllCombinations()
    {
        string[] statuses = [H, D, U, X];
        var data = new TheoryData<string, string, string, string, string>();
        foreach (var database in statuses)
        foreach (var cache in statuses)
        foreach (var messaging in statuses)
        foreach (var services in statuses)
        foreach (var external in statuses)
        {
            data.Add(database, cache, messaging, services, external);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllCombinations))]
    public void Overall_EveryCombination_FollowsTheSeverityRules(string database, string cache, string messaging, string services, string external)
    {
        var overall = HealthStatusRules.Overall(Groups(database, cache, messaging, services, external));

        var essentialDown = database == U || messaging == U || services == U;
        var allHealthy = new[] { database, cache, messaging, services, external }.All(s => s == H);
        Assert.Equal(essentialDown ? U : allHealthy ? H : D, overall);
        Assert.Equal(overall == U ? 503 : 200, HealthStatusRules.HttpStatusCode(overall));
    }

    [Fact]
    public void AllHealthy_IsHealthyWith200()
    {
        Assert.Equal(H, HealthStatusRules.Overall(Groups()));
        Assert.Equal(200, HealthStatusRules.HttpStatusCode(H));
    }

    [Theory]
    [InlineData(CheckGroups.Database)]
    [InlineData(CheckGroups.Messaging)]
    public void DatabaseOrMessagingDown_IsUnhealthyWith503(string group)
    {
        var groups = Groups();
        groups[group] = U;
        Assert.Equal(U, HealthStatusRules.Overall(groups));
        Assert.Equal(503, HealthStatusRules.HttpStatusCode(HealthStatusRules.Overall(groups)));
    }

    [Fact]
    public void CacheDown_IsDegradedWith200()
    {
        Assert.Equal(D, HealthStatusRules.Overall(Groups(cache: D)));
        Assert.Equal(200, HealthStatusRules.HttpStatusCode(D));
    }

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
    public void AMissingGroup_CountsAsUnknown() =>
        Assert.Equal(D, HealthStatusRules.Overall(new Dictionary<string, string> { [CheckGroups.Database] = H }));

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

    private static CheckState State(string status, string group = CheckGroups.Services) =>
        new("c" + Guid.NewGuid().ToString("N")[..8], group, status, null, null, null, null, 0);

    [Fact]
    public void GroupStatus_CombinesItsChecks()
    {
        Assert.Equal(H, HealthStatusRules.GroupStatus([State(H), State(H)]));
        Assert.Equal(D, HealthStatusRules.GroupStatus([State(H), State(U)]));
        Assert.Equal(U, HealthStatusRules.GroupStatus([State(U), State(U)]));
        Assert.Equal(D, HealthStatusRules.GroupStatus([State(U), State(X)]));
        Assert.Equal(H, HealthStatusRules.GroupStatus([State(H), State(X)]));
        Assert.Equal(X, HealthStatusRules.GroupStatus([State(X)]));
        Assert.Equal(D, HealthStatusRules.GroupStatus([State(D), State(D)]));
    }

    [Fact]
    public void Groups_NameEveryGroup_AndAGroupWithNothingToCheckIsHealthy()
    {
        var groups = HealthStatusRules.Groups([State(U, CheckGroups.Database), State(X, CheckGroups.Cache)]);

        Assert.Equal([CheckGroups.Cache, CheckGroups.Database, CheckGroups.External, CheckGroups.Messaging, CheckGroups.Services], groups.Keys.Order());
        Assert.Equal(U, groups[CheckGroups.Database]);
        Assert.Equal(X, groups[CheckGroups.Cache]);
        Assert.Equal(H, groups[CheckGroups.External]);
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
    public void Uptime_AProbeRestart_ThroughUnknown_IsLeftOut()
    {
        // Healthy, then unknown for 2h (a transition back to unknown), then healthy again: 100% of what is known.
        var uptime = HealthStatusRules.UptimePercent(H, [(From.AddHours(1), X), (From.AddHours(3), H)], From, From.AddHours(4));
        Assert.Equal(100, uptime!.Value, 9);
    }

    [Fact]
    public void Uptime_StatusBeforeThePeriod_CoversItsStart()
    {
        // Unhealthy since before the period, healthy from its middle: 50%.
        var uptime = HealthStatusRules.UptimePercent(U, [(From.AddHours(1), H)], From, From.AddHours(2));
        Assert.Equal(50, uptime!.Value, 9);
    }

    [Fact]
    public void Uptime_IgnoresTransitionsOutsideThePeriod_AndSortsThem()
    {
        var uptime = HealthStatusRules.UptimePercent(H,
            [(From.AddHours(3), H), (From.AddHours(-5), U), (From.AddHours(1), U), (From.AddHours(9), U)], From, From.AddHours(4));
        // Healthy 0-1h, down 1-3h, healthy 3-4h.
        Assert.Equal(50, uptime!.Value, 9);
    }

    [Fact]
    public void Uptime_ATransitionAtTheStart_ReplacesTheEarlierStatus() =>
        Assert.Equal(100, HealthStatusRules.UptimePercent(U, [(From, H)], From, From.AddHours(1))!.Value, 9);

    [Fact]
    public void Uptime_NothingKnown_IsNull() => Assert.Null(HealthStatusRules.UptimePercent(null, [], From, From.AddHours(1)));

    [Fact]
    public void Uptime_DegradedCountsAsNotUp() =>
        Assert.Equal(0, HealthStatusRules.UptimePercent(D, [], From, From.AddHours(1))!.Value);
}
