using System.ComponentModel.DataAnnotations;
using ContentMax.ServiceDefaults.ApiKeys;

namespace ContentMax.ServiceDefaults.RateLimiting;

// Per-key rate limits (section RateLimits). Each key gets its role's limits
// unless RateLimits:Keys:{key name} overrides them; 0 means unlimited.
//
//   RateLimits:Roles:ingest:RequestsPerSecond = 10000
//   RateLimits:Roles:ingest:MetricsPerSecond  = 200000
//   RateLimits:Keys:web-frontend:MetricsPerSecond = 50000
//
// Counts are shared by every replica through Redis; with Redis unreachable each
// instance enforces the whole limit on its own (see docs/operations.md).
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    public bool Enabled { get; set; } = true;

    // Length of the fixed counting window. Limits are per second; a window of
    // 10 s allows ten times the per-second limit within it.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    // Share of a window's limit an instance reserves from Redis at a time. Larger
    // means fewer Redis calls; smaller means less quota parked in idle replicas.
    [Range(0.001, 1.0)]
    public double ReserveFraction { get; set; } = 0.1;

    // How long a reservation may wait for Redis before the instance decides alone.
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:05")]
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    public Dictionary<string, RateLimit> Roles { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        [ApiRoles.Ingest] = new() { RequestsPerSecond = 10_000, MetricsPerSecond = 200_000 },
        [ApiRoles.Read] = new() { RequestsPerSecond = 200 },
        [ApiRoles.Admin] = new() { RequestsPerSecond = 200 },
    };

    public Dictionary<string, RateLimit> Keys { get; set; } = new(StringComparer.Ordinal);

    // The per-second limit for a key, or null when it is unlimited.
    public double? LimitFor(string keyName, string role, RateLimitKind kind)
    {
        var perSecond = (Keys.TryGetValue(keyName, out var own) ? own.For(kind) : null)
            ?? (Roles.TryGetValue(role, out var byRole) ? byRole.For(kind) : null);
        return perSecond is > 0 ? perSecond : null;
    }
}

public sealed class RateLimit
{
    [Range(0, double.MaxValue)]
    public double? RequestsPerSecond { get; set; }

    // Metrics in accepted ingestion requests; only ingestion counts them.
    [Range(0, double.MaxValue)]
    public double? MetricsPerSecond { get; set; }

    public double? For(RateLimitKind kind) => kind == RateLimitKind.Requests ? RequestsPerSecond : MetricsPerSecond;
}

public enum RateLimitKind
{
    Requests,
    Metrics,
}
