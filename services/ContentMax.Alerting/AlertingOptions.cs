using System.ComponentModel.DataAnnotations;
using ContentMax.ServiceDefaults;

namespace ContentMax.Alerting;

public sealed class AlertingOptions : IValidatableObject
{
    public const string SectionName = "Alerting";

    public bool Enabled { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(15);

    // How often a still-firing alert is notified again, unless its rule says otherwise.
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan RepeatInterval { get; set; } = TimeSpan.FromHours(4);

    // The seed file of rules and SLOs, relative to the service's directory.
    [Required]
    public string RulesFile { get; set; } = "alert-rules.json";

    // Where notifications link to: the operators' dashboard (the AppHost sets
    // it) and the runbook pages it serves.
    public string? DashboardUrl { get; set; }
    public string? RunbookBaseUrl { get; set; }

    public List<ReceiverOptions> Receivers { get; set; } = [];

    // Receivers on loopback or private networks (10/8, 172.16/12, 192.168/16,
    // fc00::/7) are refused unless this is set; link-local and cloud metadata
    // addresses always are. Development (the AppHost) sets it.
    public bool AllowPrivateReceivers { get; set; }

    [Range(1, 100)]
    public int DeliveryAttempts { get; set; } = 10;

    // How often a firing alert is sent again to alertmanager-api receivers
    // (Alertmanager resolves an alert it has not heard of for 5 minutes).
    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan AlertmanagerResendInterval { get; set; } = TimeSpan.FromMinutes(1);

    // How long one rule's query, or one SLO's counting, may take in a cycle
    // before it is given up with an error of its own.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RuleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan DeliveryPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    // SLO event counts of recent minutes are recomputed on every evaluation, so
    // points arriving up to this late still count.
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan SloLateness { get; set; } = TimeSpan.FromMinutes(5);

    // ValidateDataAnnotations does not descend into list items, so the
    // receivers are checked here, with messages that name the setting.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Receivers.Any(r => r.Format == NotificationFormats.LegacyAlertmanager))
        {
            yield return new ValidationResult(
                "Alerting:Receivers Format 'alertmanager' is now 'alertmanager-webhook' (the body Alertmanager sends to webhooks, for tools " +
                "that accept those) or 'alertmanager-api' (delivers into an Alertmanager: Url is its base, such as http://alertmanager:9093).");
        }
        if (!Receivers.All(r => NotificationFormats.All.Contains(r.Format)))
        {
            yield return new ValidationResult($"Every Alerting:Receivers entry needs Format {string.Join(", ", NotificationFormats.All)}.");
        }

        if (!Receivers.All(r => AbsoluteHttpUrlAttribute.IsHttpUrl(r.Url)))
        {
            yield return new ValidationResult("Every Alerting:Receivers entry needs an absolute http(s) Url.");
        }

        if (!Receivers.All(r => Severities.All.Contains(r.MinSeverity)))
        {
            yield return new ValidationResult($"Alerting:Receivers MinSeverity must be one of {string.Join(", ", Severities.All)}.");
        }

        if (Receivers.Select(r => r.Name).Distinct().Count() != Receivers.Count)
        {
            yield return new ValidationResult("Alerting:Receivers names must be unique.");
        }
    }

    public string RunbookUrl(string? runbook)
    {
        if (string.IsNullOrEmpty(runbook)) return "";
        if (runbook.Contains("://", StringComparison.Ordinal)) return runbook;
        var baseUrl = RunbookBaseUrl ?? (DashboardUrl is null ? null : DashboardUrl.TrimEnd('/') + "/runbooks");
        return baseUrl is null ? $"docs/runbooks/{runbook}.md" : $"{baseUrl.TrimEnd('/')}/{runbook}";
    }
}

// A webhook that notifications go to. The URL is a secret (a Slack webhook
// URL is a credential): it is never logged or stored, only the name is.
public sealed class ReceiverOptions
{
    [Required]
    public string Name { get; set; } = "";

    // generic | slack | alertmanager-webhook | alertmanager-api
    [Required]
    public string Format { get; set; } = NotificationFormats.Generic;

    [Required]
    public string Url { get; set; } = "";

    // Only alerts of at least this severity (info < warning < critical).
    public string MinSeverity { get; set; } = Severities.Info;

    // Only alerts whose labels carry all of these.
    public Dictionary<string, string> Matchers { get; set; } = [];

    // Extra request headers, such as Authorization for an Alertmanager-compatible receiver.
    public Dictionary<string, string> Headers { get; set; } = [];

    public bool Accepts(AlertRule rule, IReadOnlyDictionary<string, string> labels) =>
        Severities.Rank(rule.Severity) >= Severities.Rank(MinSeverity)
        && Matchers.All(m => labels.TryGetValue(m.Key, out var v) && v == m.Value);
}
