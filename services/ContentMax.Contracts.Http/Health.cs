using System.Text.Json.Serialization;

namespace ContentMax.Contracts.Http;

// The bodies of health-probe's /api/health and /api/health/history.

public sealed record CheckDetails(string Status, string Group, double? LatencyMs, DateTimeOffset? LastChecked, DateTimeOffset? LastSuccess,
    int ConsecutiveFailures, string? Error);

// Errors and Details are left out, not null, when there are none or they were not asked for.
public sealed record HealthResponse(
    string Status,
    IReadOnlyDictionary<string, string> Checks,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<string>? Errors,
    DateTimeOffset Timestamp,
    double Uptime,
    string Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SortedDictionary<string, CheckDetails>? Details);

public sealed record HealthTransition(string Check, string Group, string PreviousStatus, string Status, DateTimeOffset ChangedAt, string? Error);

public sealed record HealthHistoryResponse(string Period, DateTimeOffset From, DateTimeOffset To, List<HealthTransition> Transitions,
    SortedDictionary<string, double> Uptime, string? NextCursor);
