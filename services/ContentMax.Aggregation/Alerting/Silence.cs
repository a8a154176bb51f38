namespace ContentMax.Aggregation.Alerting;

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

public sealed record SilenceRequest
{
    public Dictionary<string, string>? Matchers { get; init; }
    public DateTimeOffset? StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public string? Comment { get; init; }

    public Dictionary<string, string[]> Check(DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        if (Matchers is null || Matchers.Count == 0) errors["matchers"] = ["must name at least one label, e.g. {\"alertname\": \"api-latency-p95\"}"];
        else if (Matchers.Count > 20 || Matchers.Any(m => m.Key.Length is 0 or > 64 || m.Value is null || m.Value.Length > 200))
            errors["matchers"] = ["must have at most 20 labels, names of 1-64 characters and values of at most 200"];
        if (EndsAt is null) errors["endsAt"] = ["is required"];
        else if (EndsAt <= (StartsAt ?? now)) errors["endsAt"] = ["must be after startsAt (or now)"];
        else if (EndsAt - (StartsAt ?? now) > Silence.LongestDuration) errors["endsAt"] = ["a silence lasts at most 30 days"];
        if (StartsAt is { } start && start < now - TimeSpan.FromMinutes(5)) errors["startsAt"] = ["must not be in the past"];
        if (string.IsNullOrWhiteSpace(Comment) || Comment.Length > 500) errors["comment"] = ["must say why, in 1-500 characters"];
        return errors;
    }
}
