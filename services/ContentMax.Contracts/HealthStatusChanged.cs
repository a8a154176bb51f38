namespace ContentMax.Contracts;

// Published by the health-probe whenever one check changes status, e.g.
// database healthy → unhealthy. Alerting consumes it for health rules.
public sealed record HealthStatusChanged
{
    // The check's name: "database", "cache", "messaging", "service:ingestion",
    // "external:google-apis", ...
    public required string Check { get; init; }

    // The group the check belongs to in /api/health's "checks" object:
    // database, cache, messaging, services or external.
    public required string Group { get; init; }

    // healthy | degraded | unhealthy | unknown
    public required string PreviousStatus { get; init; }

    public required string Status { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }

    // Why the check failed, without connection strings, host names or stack traces.
    public string? Error { get; init; }

    public int ConsecutiveFailures { get; init; }
}
