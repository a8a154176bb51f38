using System.ComponentModel.DataAnnotations;

namespace ContentMax.Dashboard;

public sealed class DashboardOptions : IValidatableObject
{
    public const string SectionName = "Dashboard";

    // How often an open page refreshes health and metrics (pushed over the
    // Blazor circuit; the browser does not poll).
    [Range(typeof(TimeSpan), "00:00:01", "00:00:30")]
    public TimeSpan HealthRefresh { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan MetricsRefresh { get; set; } = TimeSpan.FromSeconds(30);

    // The dashboard's own web vitals, reported with the ContentMax browser
    // snippet (Dashboard:BrowserMetrics:*).
    public BrowserMetricsOptions BrowserMetrics { get; set; } = new();

    // ValidateDataAnnotations does not look inside nested objects; this does.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(BrowserMetrics, new ValidationContext(BrowserMetrics), results, validateAllProperties: true);
        foreach (var result in results)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(BrowserMetrics)}: {result.ErrorMessage}",
                [.. result.MemberNames.Select(m => $"{nameof(BrowserMetrics)}.{m}")]);
        }
    }
}

// The ContentMax browser snippet on every dashboard page: served by ingestion
// (GET /sdk/contentmax.js), it sends the pages' web vitals back to ingestion,
// tagged service=dashboard. On only when both Endpoint and
// Key are set (the AppHost sets them); otherwise the page and its CSP stay as
// they were. The key is visible in the page, as every browser's ingest key is:
// give it a named ingest key of its own, so it can be rate-limited and revoked alone.
public sealed class BrowserMetricsOptions : IValidatableObject
{
    // Ingestion's base address as the browser reaches it, e.g. http://localhost:5181.
    public string? Endpoint { get; set; }

    // An ingest key.
    public string? Key { get; set; }

    [Required, RegularExpression("^[^\\p{C}]{1,200}$", ErrorMessage = "Service must be 1-200 characters without control characters.")]
    public string Service { get; set; } = "dashboard";

    // The share of page views that report web vitals (errors always do).
    [Range(0.0, 1.0)]
    public double SampleRate { get; set; } = 1.0;

    // Uncaught errors as the metric `errors` too. Off by default: Sentry already
    // has the dashboard's browser errors, and the product's error rate and alerts
    // should not count the operators' own tool.
    public bool ReportErrors { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Endpoint) && !string.IsNullOrWhiteSpace(Key);

    // The one origin the page's CSP lets scripts and beacons reach for this.
    public string? Origin => Enabled ? BrowserMonitoringSettings.OriginOf(Endpoint!, "Dashboard:BrowserMetrics:Endpoint") : null;

    // Without a trailing slash; it may carry a path when ingestion sits behind a proxy.
    public string? BaseUrl => Enabled ? Endpoint!.Trim().TrimEnd('/') : null;

    public string? ScriptUrl => Enabled ? BaseUrl + "/sdk/contentmax.js" : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Endpoint)
            && !(Uri.TryCreate(Endpoint.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment)))
        {
            yield return new ValidationResult(
                $"Endpoint is '{Endpoint}'; it must be ingestion's absolute http(s) address, such as http://localhost:5181.",
                [nameof(Endpoint)]);
        }
    }
}
