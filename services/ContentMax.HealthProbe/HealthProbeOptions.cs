using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace ContentMax.HealthProbe;

public sealed partial class HealthProbeOptions : IValidatableObject
{
    public const string SectionName = "HealthProbe";

    // How often every check runs.
    [Range(typeof(TimeSpan), "00:00:00.200", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    // How long one run of a check may take before it counts as failed.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    // How long status changes (health_transitions) are kept, and how often
    // older ones are deleted.
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(90);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan HistoryTrimInterval { get; set; } = TimeSpan.FromHours(1);

    // The services whose /health is checked, by their service-discovery names.
    public string[] Services { get; set; } = ["ingestion", "aggregation", "dashboard"];

    // Named external HTTP targets; the defaults in appsettings.json are the
    // seed's (Google's APIs for GSC and GA4, and Shopify).
    public List<ExternalTarget> External { get; set; } = [];

    // ValidateDataAnnotations does not descend into list items, so the targets
    // are checked here, with messages that name the setting.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var service in Services)
        {
            if (!ServiceName().IsMatch(service ?? ""))
            {
                yield return new ValidationResult($"HealthProbe:Services: '{service}' is not a service name (lower-case letters, digits and dashes).");
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < External.Count; i++)
        {
            var target = External[i];
            var at = $"HealthProbe:External:{i}";
            if (!TargetName().IsMatch(target.Name ?? ""))
            {
                yield return new ValidationResult($"{at}:Name is required: letters, digits, '.', '_' or '-', at most 64.");
            }
            else if (!names.Add(target.Name!))
            {
                yield return new ValidationResult($"{at}:Name '{target.Name}' is used by another target.");
            }

            if (target.Url is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                yield return new ValidationResult($"{at}:Url must be an absolute http or https URL.");
            }

            if (target.Method?.ToUpperInvariant() is not ("GET" or "HEAD"))
            {
                yield return new ValidationResult($"{at}:Method must be GET or HEAD: a probe must not change anything.");
            }

            if (target.ExpectedStatus is < 100 or > 599)
            {
                yield return new ValidationResult($"{at}:ExpectedStatus must be an HTTP status code (100-599).");
            }

            if (target.Timeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(100) || timeout > TimeSpan.FromMinutes(5)))
            {
                yield return new ValidationResult($"{at}:Timeout must be between 00:00:00.100 and 00:05:00.");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceName();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex TargetName();
}

public sealed class ExternalTarget
{
    // Shown as "external:{Name}" in details, errors and the history.
    public string? Name { get; set; }

    public string Method { get; set; } = "HEAD";

    public Uri? Url { get; set; }

    // Null: HealthProbe:Timeout.
    public TimeSpan? Timeout { get; set; }

    public int ExpectedStatus { get; set; } = 200;
}
