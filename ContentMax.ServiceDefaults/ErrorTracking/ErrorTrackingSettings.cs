using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// The Sentry section of a service's configuration (the AppHost forwards it as
// Sentry__Dsn, Sentry__Environment, ...). Sentry's own options are bound from
// the same section by the SDK; these are the values ContentMax decides itself.
public sealed class ErrorTrackingSettings
{
    public const string SectionName = "Sentry";

    // Dropped in BeforeSend. Cancellations count only when the client aborted the
    // request (a cancelled HttpClient call is a real timeout and is kept).
    public static readonly IReadOnlyList<string> DefaultIgnoredExceptions =
    [
        "System.OperationCanceledException",
        "System.Threading.Tasks.TaskCanceledException",
        "Microsoft.AspNetCore.Connections.ConnectionResetException",
        "Microsoft.AspNetCore.Http.BadHttpRequestException",
    ];

    // Header, cookie, query, data, extra, context, breadcrumb and tag names whose
    // values never leave the process. A name matches when it contains an entry
    // ("-" and "_" are the same): "X-Api-Key" matches "api_key".
    public static readonly IReadOnlyList<string> DefaultRedactedFields =
    [
        "password", "secret", "token", "api_key", "apikey", "dd-api-key", "cookie", "set-cookie",
    ];

    public string? Dsn { get; init; }
    public bool Enabled => !string.IsNullOrWhiteSpace(Dsn);
    public double TracesSampleRate { get; init; }
    public string? Release { get; init; }

    // Configured entries extend the defaults; the defaults always apply.
    public IReadOnlyList<string> IgnoredExceptions { get; init; } = DefaultIgnoredExceptions;
    public IReadOnlyList<string> RedactedFields { get; init; } = DefaultRedactedFields;

    public static ErrorTrackingSettings From(IConfiguration configuration, ServiceIdentity identity)
    {
        var section = configuration.GetSection(SectionName);
        return new ErrorTrackingSettings
        {
            Dsn = section["Dsn"] is { Length: > 0 } dsn ? dsn.Trim() : null,
            TracesSampleRate = ReadSampleRate(section["TracesSampleRate"], identity),
            Release = section["Release"] is { Length: > 0 } release ? release.Trim() : null,
            IgnoredExceptions = [.. DefaultIgnoredExceptions.Concat(ReadList(section.GetSection("IgnoredExceptions"))).Distinct(StringComparer.Ordinal)],
            RedactedFields = [.. DefaultRedactedFields.Concat(ReadList(section.GetSection("RedactedFields"))).Distinct(StringComparer.OrdinalIgnoreCase)],
        };
    }

    // 0.1 in production and 1.0 anywhere else, unless Sentry:TracesSampleRate says otherwise.
    private static double ReadSampleRate(string? configured, ServiceIdentity identity)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return identity.IsProduction ? 0.1 : 1.0;
        }

        if (double.TryParse(configured, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate is >= 0 and <= 1)
        {
            return rate;
        }

        throw new InvalidOperationException(
            $"Sentry:TracesSampleRate is '{configured}'. It must be a number from 0 to 1 (e.g. 0.1), written with a '.'.");
    }

    // A list is either indexed entries (Sentry:RedactedFields:0, ...) or one
    // comma-separated value, which is easier to pass as an environment variable.
    private static IEnumerable<string> ReadList(IConfigurationSection section)
    {
        var values = section.Value is { } single ? [single] : section.GetChildren().Select(c => c.Value);
        return values
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
