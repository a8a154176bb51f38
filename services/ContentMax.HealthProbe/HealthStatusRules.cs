namespace ContentMax.HealthProbe;

// How check results add up. A failing database or broker makes the system
// unhealthy (nothing can be stored); a failing cache, an external API or one
// service makes it degraded; every service down makes it unhealthy.
public static class HealthStatusRules
{
    // The status a check reports when it fails: the seed treats the cache and
    // external APIs as optional.
    public static string FailureStatus(string group) =>
        group is CheckGroups.Cache or CheckGroups.External ? HealthStatus.Degraded : HealthStatus.Unhealthy;

    // One group's status from its checks: all healthy → healthy, all failing →
    // that failure, a mix → degraded, nothing known yet → unknown.
    public static string GroupStatus(IReadOnlyCollection<CheckState> checks)
    {
        var known = checks.Where(c => c.Status != HealthStatus.Unknown).ToList();
        if (known.Count == 0) return HealthStatus.Unknown;
        if (known.All(c => c.Status == HealthStatus.Healthy)) return HealthStatus.Healthy;
        if (known.Count == checks.Count && known.All(c => c.Status == HealthStatus.Unhealthy)) return HealthStatus.Unhealthy;
        return HealthStatus.Degraded;
    }

    public static string Overall(IReadOnlyDictionary<string, string> groups)
    {
        string Of(string group) => groups.GetValueOrDefault(group, HealthStatus.Unknown);

        if (Of(CheckGroups.Database) == HealthStatus.Unhealthy || Of(CheckGroups.Messaging) == HealthStatus.Unhealthy
            || Of(CheckGroups.Services) == HealthStatus.Unhealthy)
        {
            return HealthStatus.Unhealthy;
        }

        return groups.Values.All(s => s == HealthStatus.Healthy) ? HealthStatus.Healthy : HealthStatus.Degraded;
    }

    // Share of [from, to) a check was healthy, from its transitions: the status
    // before the first one comes from `initial` (the last change before the
    // period); time whose status is unknown is left out of the denominator.
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
