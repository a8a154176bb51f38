using System.Globalization;
using System.Text;
using System.Text.Json;
using ContentMax.Contracts;

namespace ContentMax.Ingestion;

// Longer than our usual 300 lines: one forward pass of Utf8JsonReader cannot
// be split across files without passing the reader's state by ref through
// every helper; the field readers below are that pass's parts.
//
// Turns a request body (one metric object or an array of them) into validated
// MetricPoints, or into every problem found, each named by index and field.
// A batch is all-or-nothing: one bad item rejects the request.
//
// A point is one observation ("value"), or many at once, as a client that
// aggregates sends them: "count" and "sum", optionally "min", "max" and
// "buckets": {"bounds": [...], "counts": [...]} (an explicit-bucket histogram).
//
// It reads the body once with Utf8JsonReader, straight into points: no
// document, and nothing allocated per field but the strings a point keeps.
// Metric names and tags repeat from request to request, so those strings come
// from a shared cache instead of being allocated each time.
public static class MetricRequestParser
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = 8,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    public const string KnownFields = "metric, value, timestamp, url, userAgent, tags, id, count, sum, min, max, buckets";

    [Flags]
    private enum Seen
    {
        Metric = 1, Value = 2, Timestamp = 4, Url = 8, UserAgent = 16, Tags = 32, Id = 64,
        Count = 128, Sum = 256, Min = 512, Max = 1024, Buckets = 2048,
    }

    public static MetricParseResult Parse(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        // Utf8JsonReader checks the structure, but string contents only when
        // they are read; checking up front keeps one answer for bad UTF-8.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return MetricParseResult.Invalid(new MetricError(null, "body", "is not valid JSON: it is not valid UTF-8"), isArray: false);
        }

        var reader = new Utf8JsonReader(body.Span, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                return MetricParseResult.Invalid(new MetricError(null, "body", "is not valid JSON: the body is empty"), isArray: false);
            }

            var context = new ItemContext(now);
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    context.Index = null;
                    var point = ParseItem(ref reader, ref context);
                    EnsureEnd(ref reader);
                    return context.Errors is { Count: > 0 } errors
                        ? new MetricParseResult([], errors, IsArray: false)
                        : new MetricParseResult([point!], [], IsArray: false);
                case JsonTokenType.StartArray:
                    return ParseArray(ref reader, ref context);
                default:
                    reader.Skip();
                    EnsureEnd(ref reader);
                    return MetricParseResult.Invalid(new MetricError(null, "body", "must be a metric object or an array of metric objects"), isArray: false);
            }
        }
        catch (JsonException ex)
        {
            return MetricParseResult.Invalid(new MetricError(null, "body", $"is not valid JSON: {Describe(ex)}"), isArray: false);
        }
    }

    private static MetricParseResult ParseArray(ref Utf8JsonReader reader, ref ItemContext context)
    {
        var points = new List<MetricPoint>();
        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count == MetricRules.MaxBatchSize)
            {
                // Count the rest, so the error can say how many there were.
                reader.Skip();
                count++;
                continue;
            }

            context.Index = count++;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                context.Error("", "must be a metric object");
                continue;
            }

            if (ParseItem(ref reader, ref context) is { } point) points.Add(point);
        }

        EnsureEnd(ref reader);
        if (MetricRules.CheckCount(count) is { } countError)
        {
            return MetricParseResult.Invalid(new MetricError(null, "body", countError), isArray: true);
        }

        return context.Errors is { Count: > 0 } errors ? new MetricParseResult([], errors, IsArray: true) : new MetricParseResult([.. points], [], IsArray: true);
    }

    // Reads one metric object (the reader is on its StartObject) and returns
    // the point, or null with the problems added to the context.
    private static MetricPoint? ParseItem(ref Utf8JsonReader reader, ref ItemContext context)
    {
        var errorsBefore = context.Errors?.Count ?? 0;
        Seen seen = 0, reported = 0;
        string? metric = null, url = null, userAgent = null;
        double value = 0, sum = 0, min = 0, max = 0;
        long? timestamp = null;
        long count = 0;
        Guid? id = null;
        Dictionary<string, string>? tags = null;
        double[]? bounds = null;
        long[]? bucketCounts = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader);
            var unknown = field == 0 ? Truncate(reader.GetString()!) : null;
            reader.Read();
            if (unknown is not null)
            {
                context.Error(unknown, $"is not a known field (expected {KnownFields})");
                reader.Skip();
                continue;
            }

            if ((seen & field) != 0)
            {
                context.Error(Name(field), "appears more than once");
                reported |= field;
                reader.Skip();
                continue;
            }

            seen |= field;
            var ok = field switch
            {
                Seen.Metric => TryString(ref reader, out metric, allowNull: false),
                Seen.Value => TryFinite(ref reader, out value),
                Seen.Timestamp => reader.TokenType == JsonTokenType.Null ? Unset(ref seen, field) : TryLong(ref reader, out var ts) && Assign(out timestamp, ts),
                Seen.Url => TryString(ref reader, out url, allowNull: true),
                Seen.UserAgent => TryString(ref reader, out userAgent, allowNull: true),
                Seen.Id => reader.TokenType == JsonTokenType.Null ? Unset(ref seen, field) : TryGuid(ref reader, out id),
                Seen.Tags => TryTags(ref reader, ref context, out tags),
                Seen.Count => TryLong(ref reader, out count),
                Seen.Sum => TryFinite(ref reader, out sum),
                Seen.Min => TryFinite(ref reader, out min),
                Seen.Max => TryFinite(ref reader, out max),
                Seen.Buckets => TryBuckets(ref reader, ref context, out bounds, out bucketCounts),
                _ => false,
            };

            if (!ok)
            {
                reported |= field;
                if (field is not (Seen.Tags or Seen.Buckets)) context.Error(Name(field), Expected(field));
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
            }
        }

        var isDistribution = (seen & (Seen.Count | Seen.Sum | Seen.Buckets)) != 0;
        if ((seen & Seen.Metric) == 0) Report(ref context, ref reported, Seen.Metric, "is required");
        if (isDistribution)
        {
            if ((seen & Seen.Count) == 0) Report(ref context, ref reported, Seen.Count, "is required when sum or buckets are sent");
            if ((seen & Seen.Sum) == 0) Report(ref context, ref reported, Seen.Sum, "is required when count or buckets are sent");
            if ((seen & Seen.Value) != 0) Report(ref context, ref reported, Seen.Value, "must be left out when count and sum are sent (sum is the total of the observations)");
        }
        else
        {
            if ((seen & Seen.Value) == 0) Report(ref context, ref reported, Seen.Value, "is required");
            if ((seen & (Seen.Min | Seen.Max)) != 0) Report(ref context, ref reported, (seen & Seen.Min) != 0 ? Seen.Min : Seen.Max, "only applies to a point with count and sum");
        }

        var point = new MetricPoint
        {
            Id = id ?? Guid.CreateVersion7(),
            // A client that chose the id gets each id stored at most once.
            RequireUniqueId = id is not null,
            Metric = metric ?? "",
            Value = isDistribution ? sum : value,
            Timestamp = timestamp ?? context.NowMs,
            Url = url,
            UserAgent = userAgent,
            Tags = tags,
            Distribution = isDistribution
                ? new Distribution
                {
                    Count = count,
                    Min = (seen & Seen.Min) != 0 ? min : null,
                    Max = (seen & Seen.Max) != 0 ? max : null,
                    Bounds = bounds ?? [],
                    BucketCounts = bucketCounts ?? [],
                }
                : null,
        };

        if (!MetricRules.IsValid(point, context.Now))
        {
            foreach (var (fieldName, reason) in MetricRules.Check(point, context.Now))
            {
                if (!WasReported(reported, fieldName)) context.Error(fieldName, reason);
            }
        }

        if ((context.Errors?.Count ?? 0) == errorsBefore && id is not null && !context.SeenIds.Add(id.Value))
        {
            context.Error("id", MetricRules.RepeatedId);
        }

        return (context.Errors?.Count ?? 0) == errorsBefore ? point : null;
    }

    private static bool WasReported(Seen reported, string field)
    {
        var root = field.Split('.', 2)[0];
        return root switch
        {
            "metric" => (reported & Seen.Metric) != 0,
            "value" => (reported & (Seen.Value | Seen.Sum)) != 0,
            "timestamp" => (reported & Seen.Timestamp) != 0,
            "url" => (reported & Seen.Url) != 0,
            "userAgent" => (reported & Seen.UserAgent) != 0,
            "id" => (reported & Seen.Id) != 0,
            "tags" => (reported & Seen.Tags) != 0,
            "count" => (reported & Seen.Count) != 0,
            "min" => (reported & Seen.Min) != 0,
            "max" => (reported & Seen.Max) != 0,
            "buckets" => (reported & Seen.Buckets) != 0,
            _ => false,
        };
    }

    private static void Report(ref ItemContext context, ref Seen reported, Seen field, string reason)
    {
        if ((reported & field) != 0) return;
        reported |= field;
        context.Error(Name(field), reason);
    }

    private static Seen FieldOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped) return FieldOf(Encoding.UTF8.GetBytes(reader.GetString()!));
        return FieldOf(reader.ValueSpan);
    }

    private static Seen FieldOf(ReadOnlySpan<byte> name) => name switch
    {
        _ when name.SequenceEqual("metric"u8) => Seen.Metric,
        _ when name.SequenceEqual("value"u8) => Seen.Value,
        _ when name.SequenceEqual("timestamp"u8) => Seen.Timestamp,
        _ when name.SequenceEqual("tags"u8) => Seen.Tags,
        _ when name.SequenceEqual("id"u8) => Seen.Id,
        _ when name.SequenceEqual("url"u8) => Seen.Url,
        _ when name.SequenceEqual("userAgent"u8) => Seen.UserAgent,
        _ when name.SequenceEqual("count"u8) => Seen.Count,
        _ when name.SequenceEqual("sum"u8) => Seen.Sum,
        _ when name.SequenceEqual("min"u8) => Seen.Min,
        _ when name.SequenceEqual("max"u8) => Seen.Max,
        _ when name.SequenceEqual("buckets"u8) => Seen.Buckets,
        _ => 0,
    };

    private static string Name(Seen field) => field switch
    {
        Seen.Metric => "metric",
        Seen.Value => "value",
        Seen.Timestamp => "timestamp",
        Seen.Url => "url",
        Seen.UserAgent => "userAgent",
        Seen.Tags => "tags",
        Seen.Id => "id",
        Seen.Count => "count",
        Seen.Sum => "sum",
        Seen.Min => "min",
        Seen.Max => "max",
        _ => "buckets",
    };

    private static string Expected(Seen field) => field switch
    {
        Seen.Metric or Seen.Url or Seen.UserAgent => "must be a string",
        Seen.Timestamp => "must be an integer number of Unix milliseconds",
        Seen.Id => "must be a UUID string",
        Seen.Count => "must be a whole number",
        _ => "must be a finite number",
    };

    private static bool Unset(ref Seen seen, Seen field)
    {
        seen &= ~field;
        return true;
    }

    private static bool Assign<T>(out T? target, T value) where T : struct
    {
        target = value;
        return true;
    }

    private static bool TryString(ref Utf8JsonReader reader, out string? text, bool allowNull)
    {
        text = null;
        if (reader.TokenType == JsonTokenType.Null) return allowNull;
        if (reader.TokenType != JsonTokenType.String) return false;
        text = StringCache.Get(ref reader);
        return true;
    }

    private static bool TryFinite(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out value) && double.IsFinite(value);
    }

    private static bool TryLong(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value);
    }

    private static bool TryGuid(ref Utf8JsonReader reader, out Guid? id)
    {
        id = null;
        if (reader.TokenType != JsonTokenType.String) return false;
        if (reader.TryGetGuid(out var g) || Guid.TryParse(reader.GetString(), out g))
        {
            id = g;
            return true;
        }

        return false;
    }

    private static bool TryTags(ref Utf8JsonReader reader, ref ItemContext context, out Dictionary<string, string>? tags)
    {
        tags = null;
        if (reader.TokenType == JsonTokenType.Null) return true;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            context.Error("tags", "must be an object of string, number or boolean values");
            return false;
        }

        var ok = true;
        tags = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = StringCache.Get(ref reader);
            reader.Read();
            string? text = reader.TokenType switch
            {
                JsonTokenType.String => StringCache.Get(ref reader),
                JsonTokenType.Number => StringCache.Get(ref reader),
                JsonTokenType.True => "true",
                JsonTokenType.False => "false",
                _ => null,
            };

            if (text is null)
            {
                reader.Skip();
                context.Error($"tags.{Truncate(key)}", "must be a string, number or boolean");
                ok = false;
            }
            else if (tags.Count > MetricRules.MaxTags)
            {
                // MetricRules reports the count; the rest need not be kept.
            }
            else if (!tags.TryAdd(key, text))
            {
                context.Error($"tags.{Truncate(key)}", "appears more than once");
                ok = false;
            }
        }

        return ok;
    }

    private static bool TryBuckets(ref Utf8JsonReader reader, ref ItemContext context, out double[]? bounds, out long[]? counts)
    {
        bounds = null;
        counts = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            context.Error("buckets", "must be an object with bounds and counts arrays");
            return false;
        }

        var ok = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isBounds = reader.ValueTextEquals("bounds"u8);
            var isCounts = reader.ValueTextEquals("counts"u8);
            reader.Read();
            if (isBounds && ReadNumbers(ref reader, out var b, d => double.IsFinite(d))) bounds = b;
            else if (isCounts && ReadNumbers(ref reader, out var c, d => d >= 0 && d == Math.Floor(d) && d <= MetricRules.MaxObservations))
                counts = Array.ConvertAll(c, d => (long)d);
            else
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                context.Error(isBounds ? "buckets.bounds" : isCounts ? "buckets.counts" : "buckets",
                    isBounds ? "must be an array of finite numbers" : isCounts ? "must be an array of whole numbers of at least 0" : "may hold only bounds and counts");
                ok = false;
            }
        }

        if (ok && (bounds is null || counts is null))
        {
            context.Error("buckets", "must have both bounds and counts");
            ok = false;
        }

        return ok;
    }

    private static bool ReadNumbers(ref Utf8JsonReader reader, out double[] numbers, Func<double, bool> valid)
    {
        numbers = [];
        if (reader.TokenType != JsonTokenType.StartArray) return false;
        var list = new List<double>();
        var ok = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var d) || !valid(d))
            {
                ok = false;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                continue;
            }

            if (list.Count <= MetricRules.MaxBounds + 1) list.Add(d);
        }

        numbers = [.. list];
        return ok;
    }

    // Anything after the body's one value is invalid JSON.
    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read()) throw new JsonException("'" + (char)reader.ValueSpan[0] + "' is invalid after a single JSON value. Expected end of data.", null, 0, reader.TokenStartIndex);
    }

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

    private struct ItemContext(DateTimeOffset now)
    {
        public DateTimeOffset Now { get; } = now;
        public long NowMs { get; } = now.ToUnixTimeMilliseconds();
        public int? Index;
        public List<MetricError>? Errors;
        private HashSet<Guid>? _ids;

        public HashSet<Guid> SeenIds => _ids ??= [];

        public void Error(string field, string reason) => (Errors ??= []).Add(new MetricError(Index, field, reason));
    }
}

public sealed record MetricParseResult(MetricPoint[] Points, IReadOnlyList<MetricError> Errors, bool IsArray)
{
    public bool IsValid => Errors.Count == 0;

    public static MetricParseResult Invalid(MetricError error, bool isArray) => new([], [error], isArray);
}
