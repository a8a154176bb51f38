using System.Globalization;
using System.Text.Json;
using ContentMax.Contracts;

namespace ContentMax.Ingestion;

// Turns a request body (one metric object or an array of them) into validated
// MetricPoints, or into every problem found, each named by index and field.
// A batch is all-or-nothing: one bad item rejects the request.
public static class MetricRequestParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 8,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    public static MetricParseResult Parse(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        // JsonDocument validates structure but defers UTF-8 checks of string
        // contents to the first read, which would then throw mid-request.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return MetricParseResult.Invalid(new MetricError(null, "body", "is not valid JSON: it is not valid UTF-8"), isArray: false);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return MetricParseResult.Invalid(new MetricError(null, "body", $"is not valid JSON: {Describe(ex)}"), isArray: false);
        }

        using (document)
        {
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    return ParseItems([root], now, isArray: false);
                case JsonValueKind.Array:
                    var length = root.GetArrayLength();
                    if (length == 0)
                    {
                        return MetricParseResult.Invalid(new MetricError(null, "body", "must contain at least one metric"), isArray: true);
                    }

                    if (length > MetricRules.MaxBatchSize)
                    {
                        return MetricParseResult.Invalid(
                            new MetricError(null, "body", $"must contain at most {MetricRules.MaxBatchSize} metrics, not {length}"), isArray: true);
                    }

                    return ParseItems(root.EnumerateArray().ToArray(), now, isArray: true);
                default:
                    return MetricParseResult.Invalid(new MetricError(null, "body", "must be a metric object or an array of metric objects"), isArray: false);
            }
        }
    }

    private static MetricParseResult ParseItems(JsonElement[] items, DateTimeOffset now, bool isArray)
    {
        var points = new MetricPoint[items.Length];
        var errors = new List<MetricError>();
        var seenIds = new HashSet<Guid>();
        var nowMs = now.ToUnixTimeMilliseconds();

        for (var i = 0; i < items.Length; i++)
        {
            var itemErrors = new List<(string Field, string Reason)>();
            var point = ParseItem(items[i], nowMs, itemErrors);
            if (point is not null)
            {
                var typed = itemErrors.Select(e => e.Field).ToHashSet();
                foreach (var (field, reason) in MetricRules.Check(point, now))
                {
                    if (!typed.Contains(field))
                    {
                        itemErrors.Add((field, reason));
                    }
                }

                if (!itemErrors.Any(e => e.Field == "id") && !seenIds.Add(point.Id))
                {
                    itemErrors.Add(("id", "is repeated within the batch"));
                }

                points[i] = point;
            }

            foreach (var (field, reason) in itemErrors)
            {
                errors.Add(new MetricError(isArray ? i : null, field, reason));
            }
        }

        return errors.Count > 0 ? new MetricParseResult([], errors, isArray) : new MetricParseResult(points, [], isArray);
    }

    private static MetricPoint? ParseItem(JsonElement item, long nowMs, List<(string Field, string Reason)> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add(("", "must be a metric object"));
            return null;
        }

        string? metric = null;
        double value = 0;
        var hasValue = false;
        long? timestamp = null;
        string? url = null, userAgent = null;
        Dictionary<string, string>? tags = null;
        Guid? id = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);

        foreach (var property in item.EnumerateObject())
        {
            var name = property.Name;
            var v = property.Value;
            if (!seen.Add(name))
            {
                errors.Add((Field(name), "appears more than once"));
                continue;
            }

            switch (name)
            {
                case "metric":
                    if (v.ValueKind == JsonValueKind.String) metric = v.GetString();
                    else errors.Add(("metric", "must be a string"));
                    break;
                case "value":
                    if (v.ValueKind != JsonValueKind.Number) errors.Add(("value", "must be a finite number"));
                    else if (!v.TryGetDouble(out value) || !double.IsFinite(value)) errors.Add(("value", "must be a finite number"));
                    else hasValue = true;
                    break;
                case "timestamp":
                    if (v.ValueKind == JsonValueKind.Null) break;
                    if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var ts)) timestamp = ts;
                    else errors.Add(("timestamp", "must be an integer number of Unix milliseconds"));
                    break;
                case "url":
                    if (!TryOptionalString(v, out url)) errors.Add(("url", "must be a string"));
                    break;
                case "userAgent":
                    if (!TryOptionalString(v, out userAgent)) errors.Add(("userAgent", "must be a string"));
                    break;
                case "id":
                    if (v.ValueKind == JsonValueKind.Null) break;
                    if (v.ValueKind == JsonValueKind.String && Guid.TryParse(v.GetString(), out var g)) id = g;
                    else errors.Add(("id", "must be a UUID string"));
                    break;
                case "tags":
                    tags = ParseTags(v, errors);
                    break;
                default:
                    errors.Add((Field(name), "is not a known field (expected metric, value, timestamp, url, userAgent, tags, id)"));
                    break;
            }
        }

        if (metric is null && !errors.Any(e => e.Field == "metric")) errors.Add(("metric", "is required"));
        if (!hasValue && !errors.Any(e => e.Field == "value")) errors.Add(("value", "is required"));

        return new MetricPoint
        {
            Id = id ?? Guid.CreateVersion7(),
            Metric = metric ?? "",
            Value = value,
            Timestamp = timestamp ?? nowMs,
            // A client that re-sends its own id without a timestamp gets a new
            // timestamp each time: storage must then match on the id alone.
            RequireUniqueId = id is not null && timestamp is null,
            Url = url,
            UserAgent = userAgent,
            Tags = tags,
        };
    }

    private static Dictionary<string, string>? ParseTags(JsonElement v, List<(string Field, string Reason)> errors)
    {
        if (v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            errors.Add(("tags", "must be an object of string, number or boolean values"));
            return null;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in v.EnumerateObject())
        {
            if (tags.Count > MetricRules.MaxTags)
            {
                break; // MetricRules reports the count.
            }

            string? text = tag.Value.ValueKind switch
            {
                JsonValueKind.String => tag.Value.GetString(),
                JsonValueKind.Number => tag.Value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };

            if (text is null)
            {
                errors.Add(($"tags.{Truncate(tag.Name)}", "must be a string, number or boolean"));
            }
            else if (!tags.TryAdd(tag.Name, text))
            {
                errors.Add(($"tags.{Truncate(tag.Name)}", "appears more than once"));
            }
        }

        return tags;
    }

    private static bool TryOptionalString(JsonElement v, out string? text)
    {
        text = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return v.ValueKind is JsonValueKind.String or JsonValueKind.Null;
    }

    // Field names echoed back are clipped so a 10k-character key can't bloat the error.
    private static string Field(string name) => Truncate(name);

    private static string Truncate(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");

    private static string Describe(JsonException ex) =>
        ex.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $"{FirstSentence(ex.Message)} (line {line + 1}, byte {ex.BytePositionInLine + 1})")
            : FirstSentence(ex.Message);

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

public sealed record MetricParseResult(MetricPoint[] Points, List<MetricError> Errors, bool IsArray)
{
    public bool IsValid => Errors.Count == 0;

    public static MetricParseResult Invalid(MetricError error, bool isArray) => new([], [error], isArray);
}
