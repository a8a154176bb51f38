namespace ContentMax.HealthProbe;

public static class HealthStatus
{
    public const string Healthy = "healthy";
    public const string Degraded = "degraded";
    public const string Unhealthy = "unhealthy";
    public const string Unknown = "unknown";
}

// The groups of /api/health's "checks" object, besides "api" (the probe itself).
public static class CheckGroups
{
    public const string Database = "database";
    public const string Cache = "cache";
    public const string Messaging = "messaging";
    public const string Services = "services";
    public const string External = "external";
}

// What one run of a check found.
public sealed record ProbeOutcome(bool Ok, string? Error = null)
{
    public static readonly ProbeOutcome Success = new(true);

    public static ProbeOutcome Failure(string error) => new(false, error);
}

// The latest state of one check, as the endpoints report it.
public sealed record CheckState(
    string Name,
    string Group,
    string Status,
    double? LatencyMs,
    DateTimeOffset? LastChecked,
    DateTimeOffset? LastSuccess,
    string? Error,
    int ConsecutiveFailures)
{
    public static CheckState Unknown(string name, string group) => new(name, group, HealthStatus.Unknown, null, null, null, null, 0);
}
