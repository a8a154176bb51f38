using ContentMax.ServiceDefaults;
using System.Text.Json.Serialization;

namespace ContentMax.Alerting.Rules;

public static class RuleKinds
{
    // An aggregate of a metric over a window against a value: p95 of api_response_time over 5m > 800.
    public const string Threshold = "threshold";

    // How many points per `per` (default a minute) over a window: errors per minute > 10.
    public const string Rate = "rate";

    // One count over another over a window: errors / api_requests > 0.05.
    public const string Ratio = "ratio";

    // A health check (by name, or every check of a group) in a status, fed by HealthStatusChanged.
    public const string Health = "health";

    // Generated from an SLO, never stored: both windows burn faster than the rate.
    public const string SloBurn = "slo_burn";

    public static readonly string[] Stored = [Threshold, Rate, Ratio, Health];
}

public static class Severities
{
    public const string Critical = "critical";
    public const string Warning = "warning";
    public const string Info = "info";

    public static readonly string[] All = [Critical, Warning, Info];

    public static int Rank(string severity) => severity switch
    {
        Critical => 2,
        Warning => 1,
        _ => 0,
    };
}

// Which points of a metric count: one name, optional tags that must be equal,
// and optional numeric comparisons on a tag's value or the point's own value
// (`{"tag": "status", "op": "<", "value": 500}`, `{"op": "<=", "value": 800}`).
public sealed record MetricSelector
{
    public string Metric { get; init; } = "";
    public Dictionary<string, string>? Tags { get; init; }
    public List<ValueFilter>? Where { get; init; }

    [JsonIgnore]
    public bool IsWholeMetric => (Tags is null || Tags.Count == 0) && (Where is null || Where.Count == 0);
}

public sealed record ValueFilter
{
    // A tag whose value is compared as a number; null compares the point's value.
    public string? Tag { get; init; }
    public string Op { get; init; } = "";
    public double Value { get; init; }
}

public static class Comparisons
{
    public static readonly string[] All = [">", ">=", "<", "<=", "==", "!="];

    public static bool Holds(double left, string op, double right) => op switch
    {
        ">" => left > right,
        ">=" => left >= right,
        "<" => left < right,
        "<=" => left <= right,
        "==" => left == right,
        "!=" => left != right,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown comparison."),
    };
}

// One alert rule, as the seed file and the admin API write it. Fields a kind
// does not use are ignored.
public sealed record AlertRule
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Severity { get; init; } = Severities.Warning;
    public string? Summary { get; init; }
    public bool Enabled { get; init; } = true;

    // How long the condition must hold before the alert fires (pending until then).
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan For { get; init; }

    // How long a firing alert keeps firing after its condition clears, against flapping.
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan KeepFiringFor { get; init; }

    // A reminder while it keeps firing; zero means the global Alerting:RepeatInterval (4h).
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan RepeatInterval { get; init; }

    public Dictionary<string, string> Labels { get; init; } = [];

    // A runbook page name under docs/runbooks ("api-latency") or an absolute http(s) URL.
    public string? Runbook { get; init; }

    // threshold and rate
    public MetricSelector? Select { get; init; }

    // threshold: count, sum, min, max, avg, median, p75, p95 or p99
    public string? Aggregate { get; init; }

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Window { get; init; }

    // rate: the unit of time the count is expressed per (default 1m)
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Per { get; init; } = TimeSpan.FromMinutes(1);

    // ratio: numerator / denominator, judged only once the denominator has MinEvents points.
    public MetricSelector? Numerator { get; init; }
    public MetricSelector? Denominator { get; init; }
    public long MinEvents { get; init; } = 1;

    // health: a check name ("database", "service:ingestion") or group ("services"), and the status that alerts.
    public string? Check { get; init; }
    public string HealthStatus { get; init; } = "unhealthy";

    // threshold, rate and ratio: value `Op` Threshold
    public string Op { get; init; } = ">";
    public double Threshold { get; init; }

    // slo_burn (generated): the SLO and the window pair
    public string? Slo { get; init; }

    // The labels silences and receivers see: the rule's own, plus alertname and severity.
    public Dictionary<string, string> AllLabels()
    {
        var labels = new Dictionary<string, string>(Labels, StringComparer.Ordinal)
        {
            ["alertname"] = Id,
            ["severity"] = Severity,
        };
        return labels;
    }
}
