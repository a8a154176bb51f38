using ContentMax.ServiceDefaults;

namespace ContentMax.Alerting.Notifications;

// A time-boxed mute: while it is active, alerts whose labels carry every one of
// its matchers change state as usual but notify no one.
public sealed record Silence(
    Guid Id,
    Dictionary<string, string> Matchers,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    string Comment,
    string CreatedBy,
    DateTimeOffset CreatedAt)
{
    public static readonly TimeSpan LongestDuration = TimeSpan.FromDays(30);

    public bool IsActive(DateTimeOffset now) => StartsAt <= now && now < EndsAt;

    public bool Matches(IReadOnlyDictionary<string, string> labels) =>
        Matchers.Count > 0 && Matchers.All(m => labels.TryGetValue(m.Key, out var value) && value == m.Value);

    public string State(DateTimeOffset now) => now < StartsAt ? "pending" : now < EndsAt ? "active" : "expired";
}

// How POST /api/alerts/silences is checked (the body is SilenceRequest in
// ContentMax.Contracts.Http): how long is said either as endsAt (a time) or
// as duration ("1h", "4h", "24h": from startsAt, or from now), never both.
public static class SilenceRequestRules
{
    public static readonly TimeSpan LongestLeadTime = TimeSpan.FromDays(365);

    // When the silence ends: endsAt, or its start plus duration; null when
    // neither is given or the duration does not parse.
    public static DateTimeOffset? End(this SilenceRequest request, DateTimeOffset now) =>
        request.EndsAt ?? (Duration.TryParse(request.Duration, out var length) ? (request.StartsAt ?? now) + length : null);

    public static Dictionary<string, string[]> Check(this SilenceRequest request, DateTimeOffset now)
    {
        var (matchers, startsAt, endsAt, duration, comment) = (request.Matchers, request.StartsAt, request.EndsAt, request.Duration, request.Comment);
        var errors = new Dictionary<string, string[]>();
        if (matchers is null || matchers.Count == 0) errors["matchers"] = ["must name at least one label, e.g. {\"alertname\": \"api-latency-p95\"}"];
        else if (matchers.Count > 20 || matchers.Any(m => m.Key.Length is 0 or > 64 || m.Value is null || m.Value.Length > 200))
            errors["matchers"] = ["must have at most 20 labels, names of 1-64 characters and values of at most 200"];

        // A silence is planned at most a year ahead (and its end stays a date).
        if (startsAt is { } planned && planned > now + LongestLeadTime) errors["startsAt"] = ["must be within a year from now"];
        var start = startsAt is { } s && s <= now + LongestLeadTime ? s : now;
        if (endsAt is not null && duration is not null)
        {
            errors["endsAt"] = errors["duration"] = ["give either endsAt or duration, not both"];
        }
        else if (duration is not null)
        {
            if (!Duration.TryParse(duration, out var length) || length <= TimeSpan.Zero)
                errors["duration"] = ["must be a duration such as \"1h\", \"4h\" or \"24h\""];
            else if (length > Silence.LongestDuration) errors["duration"] = ["a silence lasts at most 30 days"];
        }
        else if (endsAt is null) errors["endsAt"] = ["is required, or give duration instead (\"1h\", \"4h\", \"24h\")"];
        else if (endsAt <= start) errors["endsAt"] = ["must be after startsAt (or now)"];
        else if (endsAt - start > Silence.LongestDuration) errors["endsAt"] = ["a silence lasts at most 30 days"];

        if (startsAt is { } from && from < now - TimeSpan.FromMinutes(5)) errors["startsAt"] = ["must not be in the past"];
        if (string.IsNullOrWhiteSpace(comment) || comment.Length > 500) errors["comment"] = ["must say why, in 1-500 characters"];
        return errors;
    }
}
