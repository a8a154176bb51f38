using ContentMax.ServiceDefaults;
using System.Text.Json.Serialization;

namespace ContentMax.Alerting.Slos;

// A service level objective: the share of good events among all events over a
// rolling window, e.g. 99.9% of api_requests with status < 500 over 30 days.
public sealed record SloDefinition
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public bool Enabled { get; init; } = true;

    // Percent, e.g. 99.9.
    public double Objective { get; init; }

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(30);

    public MetricSelector Good { get; init; } = new();
    public MetricSelector Total { get; init; } = new();

    public Dictionary<string, string> Labels { get; init; } = [];
    public string? Runbook { get; init; }

    [JsonIgnore]
    public double ObjectiveFraction => Objective / 100;

    // The multi-window, multi-burn-rate alerts of this SLO (see BurnRate.AlertWindows).
    public IEnumerable<AlertRule> BurnRules() =>
        BurnRate.AlertWindows.Select(w => new AlertRule
        {
            Id = BurnRuleId(Id, w),
            Name = $"{Name}: error budget burning {w.Rate}x over {Duration.Format(w.Long)} and {Duration.Format(w.Short)}",
            Kind = RuleKinds.SloBurn,
            Severity = w.Severity == "page" ? Severities.Critical : Severities.Warning,
            Summary = $"The {Name} SLO ({Objective}% over {Duration.Format(Window)}) is spending its error budget at more than {w.Rate}x.",
            Enabled = Enabled,
            Labels = new Dictionary<string, string>(Labels) { ["slo"] = Id, ["burn_window"] = $"{Duration.Format(w.Long)}-{Duration.Format(w.Short)}", ["notify"] = w.Severity },
            Runbook = Runbook ?? "slo-burn",
            Slo = Id,
            Window = w.Long,
            Op = ">",
            Threshold = w.Rate,
        });

    public static string BurnRuleId(string sloId, BurnRate.Window window) =>
        $"slo:{sloId}:{Duration.Format(window.Long)}-{Duration.Format(window.Short)}";
}
