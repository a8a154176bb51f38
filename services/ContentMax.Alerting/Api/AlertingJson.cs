using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContentMax.Alerting.Api;

// One JSON shape for rules and SLOs in the seed file, the database and the API:
// camelCase, and unknown fields are an error (a misspelt "threshhold" must not
// silently become 0).
public static class AlertingJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 16,
    };

    public static string Describe(JsonException ex)
    {
        // System.Text.Json's messages name the path and position; keep only what helps a caller.
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    public static string FieldOf(JsonException ex) =>
        string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
}

// The seed file: the rules and SLOs the system ships with.
public sealed record AlertingSeed
{
    public List<AlertRule> Rules { get; init; } = [];
    public List<SloDefinition> Slos { get; init; } = [];
}
