namespace ContentMax.HealthProbe;

// How check results add up, kept free of I/O so every combination is unit
// tested. A failing database or broker makes the system unhealthy (nothing can
// be stored or moved); a failing cache, external API or single service makes it
// degraded; every service down at once makes it unhealthy.
public static class HealthStatusRules
{
    // The groups of /api/health's "checks" object besides "api", which is the
    // probe itself and healthy whenever it answers; the seed's first.
    public static readonly IReadOnlyList<string> AllGroups =
        [CheckGroups.Database, CheckGroups.Cache, CheckGroups.External, CheckGroups.Messaging, CheckGroups.Services];

    // The status a check reports when it fails: as in the seed, the cache and
    // external APIs are optional.
    public static string FailureStatus(string group) =>
        group is CheckGroups.Cache or CheckGroups.External ? HealthStatus.Degraded : HealthStatus.Unhealthy;

    // One group's status from its checks: all healthy → healthy, all failing →
    // that failure, a mix → degraded, nothing known yet → unknown. A group with
    // nothing configured to check cannot fail, so it is healthy; otherwise a
    // deployment without external targets could never be healthy.
    public static string GroupStatus(IReadOnlyCollection<CheckState> checks)
    {
        if (checks.Count == 0) return HealthStatus.Healthy;
        var known = checks.Where(c => c.Status != HealthStatus.Unknown).ToList();
        if (known.Count == 0) return HealthStatus.Unknown;
        if (known.All(c => c.Status == HealthStatus.Healthy)) return HealthStatus.Healthy;
        if (known.Count == checks.Count && known.All(c => c.Status == HealthStatus.Unhealthy)) return HealthStatus.Unhealthy;
        return HealthStatus.Degraded;
    }

    // Every group's status, including groups without checks.
    public static IReadOnlyDictionary<string, string> Groups(IReadOnlyCollection<CheckState> checks) =>
        AllGroups.ToDictionary(g => g, g => GroupStatus(checks.Where(c => c.Group == g).ToList()), StringComparer.Ordinal);

    // Unhealthy as soon as one essential group is; healthy only when every group
    // is; degraded otherwise, including "not probed yet" (unknown), as in the seed.
    public static string Overall(IReadOnlyDictionary<string, string> groups)
    {
        string Of(string group) => groups.GetValueOrDefault(group, HealthStatus.Unknown);

        if (Of(CheckGroups.Database) == HealthStatus.Unhealthy || Of(CheckGroups.Messaging) == HealthStatus.Unhealthy
            || Of(CheckGroups.Services) == HealthStatus.Unhealthy)
        {
            return HealthStatus.Unhealthy;
        }

        return AllGroups.All(g => Of(g) == HealthStatus.Healthy) ? HealthStatus.Healthy : HealthStatus.Degraded;
    }

    // 503 exactly when unhealthy: load balancers and uptime monitors act on the
    // code, and a degraded system still serves.
    public static int HttpStatusCode(string overall) =>
        overall == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;

    // Share of [from, to) a check was healthy, from its transitions: the status
    // before the first one comes from `initial` (the last change before the
    // period; null when there is none); time whose status is unknown is left out
    // of the denominator. Null when no time in the period has a known status.
    public static double? UptimePercent(string? initial, IEnumerable<(DateTimeOffset At, string Status)> transitions, DateTimeOffset from, DateTimeOffset to)
    {
        double healthy = 0, known = 0;
        var status = initial ?? HealthStatus.Unknown;
        var since = from;
        foreach (var (at, next) in transitions.Where(t => t.At >= from && t.At < to).OrderBy(t => t.At))
        {
            Add(status, (at - since).TotalSeconds);
            status = next;
            since = at;
        }

        Add(status, (to - since).TotalSeconds);
        return known > 0 ? 100 * healthy / known : null;

        void Add(string s, double seconds)
        {
            if (s == HealthStatus.Unknown || seconds <= 0) return;
            known += seconds;
            if (s == HealthStatus.Healthy) healthy += seconds;
        }
    }
}
