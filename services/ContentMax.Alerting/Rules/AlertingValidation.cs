using System.Text.RegularExpressions;
using ContentMax.Contracts;

namespace ContentMax.Alerting.Rules;

// Checks a rule or an SLO field by field, so the admin API can answer
// problem+json naming every field that is wrong and why, and the seed file
// fails startup the same way.
public static partial class AlertingValidation
{
    public static readonly string[] Aggregates = ["count", "sum", "min", "max", "avg", "median", "p75", "p95", "p99"];
    public static readonly string[] HealthStatuses = ["unhealthy", "degraded"];
    public static readonly TimeSpan LongestWindow = TimeSpan.FromDays(90);

    public static Dictionary<string, string[]> Check(AlertRule rule)
    {
        var errors = new Errors();
        CheckId(rule.Id, errors);
        CheckCommon(rule.Name, rule.Severity, rule.Labels, rule.Runbook, errors);
        if (rule.For < TimeSpan.Zero || rule.For > TimeSpan.FromDays(1)) errors.Add("for", "must be between 0s and 1d");
        if (rule.KeepFiringFor < TimeSpan.Zero || rule.KeepFiringFor > TimeSpan.FromDays(1)) errors.Add("keepFiringFor", "must be between 0s and 1d");
        if (rule.RepeatInterval != TimeSpan.Zero && rule.RepeatInterval < TimeSpan.FromMinutes(1)) errors.Add("repeatInterval", "must be at least 1m, or 0 for the default");
        if (rule.Summary is { Length: > 500 }) errors.Add("summary", "must be at most 500 characters");

        switch (rule.Kind)
        {
            case RuleKinds.Threshold:
                CheckSelector("select", rule.Select, errors);
                if (rule.Aggregate is null || !Aggregates.Contains(rule.Aggregate)) errors.Add("aggregate", $"must be one of {string.Join(", ", Aggregates)}");
                CheckWindow(rule.Window, errors);
                CheckComparison(rule, errors);
                break;
            case RuleKinds.Rate:
                CheckSelector("select", rule.Select, errors);
                CheckWindow(rule.Window, errors);
                if (rule.Per < TimeSpan.FromSeconds(1) || rule.Per > rule.Window) errors.Add("per", "must be at least 1s and at most the window");
                CheckComparison(rule, errors);
                break;
            case RuleKinds.Ratio:
                CheckSelector("numerator", rule.Numerator, errors);
                CheckSelector("denominator", rule.Denominator, errors);
                CheckWindow(rule.Window, errors);
                if (rule.MinEvents < 1) errors.Add("minEvents", "must be at least 1");
                CheckComparison(rule, errors);
                break;
            case RuleKinds.Health:
                if (string.IsNullOrWhiteSpace(rule.Check) || rule.Check.Length > 200) errors.Add("check", "must name a health check (database, messaging, service:ingestion, ...) or a group (services, external)");
                if (!HealthStatuses.Contains(rule.HealthStatus)) errors.Add("healthStatus", $"must be one of {string.Join(", ", HealthStatuses)}");
                break;
            default:
                errors.Add("kind", $"must be one of {string.Join(", ", RuleKinds.Stored)}");
                break;
        }

        return errors.ToDictionary();
    }

    public static Dictionary<string, string[]> Check(SloDefinition slo)
    {
        var errors = new Errors();
        CheckId(slo.Id, errors);
        CheckCommon(slo.Name, Severities.Critical, slo.Labels, slo.Runbook, errors);
        if (slo.Description is { Length: > 1000 }) errors.Add("description", "must be at most 1000 characters");
        if (!(slo.Objective > 0 && slo.Objective < 100)) errors.Add("objective", "must be a percentage above 0 and below 100, such as 99.9");
        if (slo.Window < TimeSpan.FromHours(1) || slo.Window > LongestWindow) errors.Add("window", "must be between 1h and 90d");
        CheckSelector("good", slo.Good, errors);
        CheckSelector("total", slo.Total, errors);
        return errors.ToDictionary();
    }

    private static void CheckId(string id, Errors errors)
    {
        if (string.IsNullOrEmpty(id) || !IdPattern().IsMatch(id)) errors.Add("id", "must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit");
    }

    private static void CheckCommon(string name, string severity, Dictionary<string, string>? labels, string? runbook, Errors errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200) errors.Add("name", "must be 1-200 characters");
        if (!Severities.All.Contains(severity)) errors.Add("severity", $"must be one of {string.Join(", ", Severities.All)}");
        if (labels is null) errors.Add("labels", "must be an object of label names to values");
        else if (labels.Count > 20) errors.Add("labels", "must have at most 20 labels");
        else
        {
            foreach (var (key, value) in labels)
            {
                if (!LabelPattern().IsMatch(key)) errors.Add($"labels.{Safe(key)}", "label names are letters, digits and underscores, starting with a letter or underscore, at most 64 characters");
                else if (key is "alertname" or "severity") errors.Add($"labels.{key}", "is set from the rule itself");
                if (value is null || value.Length > 200) errors.Add($"labels.{Safe(key)}", "label values are at most 200 characters");
            }
        }

        if (runbook is not null && !RunbookPattern().IsMatch(runbook)
            && !(Uri.TryCreate(runbook, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && runbook.Length <= 500))
        {
            errors.Add("runbook", "must be a runbook page name such as api-latency, or an absolute http(s) URL");
        }
    }

    private static void CheckSelector(string field, MetricSelector? selector, Errors errors)
    {
        if (selector is null)
        {
            errors.Add(field, "is required: {\"metric\": \"name\", \"tags\": {...}, \"where\": [...]}");
            return;
        }

        if (MetricRules.CheckName(selector.Metric) is { } nameError) errors.Add($"{field}.metric", nameError);
        foreach (var (key, reason) in MetricRules.CheckTags(selector.Tags))
        {
            errors.Add($"{field}.{key}", reason);
        }

        if (selector.Where is { Count: > 10 }) errors.Add($"{field}.where", "must have at most 10 conditions");
        for (var i = 0; i < (selector.Where?.Count ?? 0); i++)
        {
            var filter = selector.Where![i];
            if (!Comparisons.All.Contains(filter.Op)) errors.Add($"{field}.where[{i}].op", $"must be one of {string.Join(" ", Comparisons.All)}");
            if (!double.IsFinite(filter.Value)) errors.Add($"{field}.where[{i}].value", "must be a finite number");
            if (filter.Tag is not null && (filter.Tag.Length is 0 or > MetricRules.MaxTagKeyLength)) errors.Add($"{field}.where[{i}].tag", $"must be 1-{MetricRules.MaxTagKeyLength} characters");
        }
    }

    private static void CheckWindow(TimeSpan window, Errors errors)
    {
        if (window < TimeSpan.FromSeconds(5) || window > TimeSpan.FromDays(7)) errors.Add("window", "must be between 5s and 7d");
    }

    private static void CheckComparison(AlertRule rule, Errors errors)
    {
        if (!Comparisons.All.Contains(rule.Op)) errors.Add("op", $"must be one of {string.Join(" ", Comparisons.All)}");
        if (!double.IsFinite(rule.Threshold)) errors.Add("threshold", "must be a finite number");
    }

    // A label name that failed validation is echoed only in a harmless form.
    private static string Safe(string key) => key.Length <= 64 && LabelPattern().IsMatch(key) ? key : "(invalid name)";

    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

        public void Add(string field, string reason)
        {
            if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
            if (!list.Contains(reason)) list.Add(reason);
        }

        public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex LabelPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}$")]
    private static partial Regex RunbookPattern();
}
