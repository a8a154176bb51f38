using System.Globalization;

namespace ContentMax.Contracts;

// The rules a metric must satisfy, shared by the HTTP ingestion API and the
// aggregation consumer so both reject exactly the same things.
public static class MetricRules
{
    public const int MaxBatchSize = 1000;
    public const int MaxNameLength = 200;
    public const int MaxUrlLength = 2048;
    public const int MaxTags = 32;
    public const int MaxTagKeyLength = 100;
    public const int MaxTagValueLength = 200;
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxFuture = TimeSpan.FromMinutes(10);

    // A histogram point: at most this many bucket bounds (OpenTelemetry's
    // exponential histograms use up to 160 buckets a side).
    public const int MaxBounds = 1024;
    public const long MaxObservations = 1_000_000_000_000_000;

    public static string? CheckName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "is required";
        }

        if (name.Length > MaxNameLength)
        {
            return $"must be at most {MaxNameLength} characters";
        }

        if (!char.IsAsciiLetter(name[0]))
        {
            return "must start with a letter";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-'))
            {
                return "may contain only letters, digits, '_', '.', ':' and '-'";
            }
        }

        return null;
    }

    public static string? CheckValue(double value) =>
        double.IsFinite(value) ? null : "must be a finite number";

    public static string? CheckTimestamp(long unixMs, DateTimeOffset now)
    {
        var earliest = now - MaxAge;
        var latest = now + MaxFuture;
        if (unixMs < earliest.ToUnixTimeMilliseconds())
        {
            return "must be at most 7 days old";
        }

        if (unixMs > latest.ToUnixTimeMilliseconds())
        {
            return "must be at most 10 minutes in the future";
        }

        return null;
    }

    public static string? CheckText(string? text, int maxLength)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Length > maxLength)
        {
            return $"must be at most {maxLength} characters";
        }

        return HasControlCharacters(text) ? "must not contain control characters" : null;
    }

    public static string? CheckId(Guid id) => id == Guid.Empty ? "must not be the empty UUID" : null;

    public static IEnumerable<(string Field, string Reason)> CheckTags(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null)
        {
            yield break;
        }

        if (tags.Count > MaxTags)
        {
            yield return ("tags", $"must have at most {MaxTags} entries");
            yield break;
        }

        foreach (var (key, value) in tags)
        {
            if (key.Length == 0 || key.Length > MaxTagKeyLength)
            {
                yield return ("tags", $"keys must be 1-{MaxTagKeyLength} characters");
            }
            else if (HasControlCharacters(key))
            {
                yield return ($"tags.{key}", "key must not contain control characters");
            }
            else if (CheckText(value, MaxTagValueLength) is { } reason)
            {
                yield return ($"tags.{key}", reason);
            }
        }
    }

    // Every problem with one point, as (field, reason).
    public static IEnumerable<(string Field, string Reason)> Check(MetricPoint point, DateTimeOffset now)
    {
        if (CheckId(point.Id) is { } id) yield return ("id", id);
        if (CheckName(point.Metric) is { } name) yield return ("metric", name);
        if (CheckValue(point.Value) is { } value) yield return ("value", value);
        if (CheckTimestamp(point.Timestamp, now) is { } ts) yield return ("timestamp", ts);
        if (CheckText(point.Url, MaxUrlLength) is { } url) yield return ("url", url);
        if (CheckText(point.UserAgent, MaxUrlLength) is { } ua) yield return ("userAgent", ua);
        foreach (var tag in CheckTags(point.Tags)) yield return tag;
        if (point.Distribution is { } distribution)
        {
            foreach (var problem in CheckDistribution(distribution)) yield return problem;
        }

        if (point.Cumulative is { } cumulative)
        {
            if (cumulative.Series == Guid.Empty) yield return ("cumulative.series", "must not be the empty UUID");
            if (cumulative.StartTime < 0 || cumulative.StartTime > point.Timestamp)
            {
                yield return ("cumulative.startTime", "must be 0 (unknown) or a Unix millisecond time no later than timestamp");
            }
        }
    }

    public static IEnumerable<(string Field, string Reason)> CheckDistribution(Distribution d)
    {
        if (d.Count < 1 || d.Count > MaxObservations)
        {
            yield return ("count", $"must be a whole number from 1 to {MaxObservations}");
        }

        if (d.Min is { } min && !double.IsFinite(min)) yield return ("min", "must be a finite number");
        if (d.Max is { } max && !double.IsFinite(max)) yield return ("max", "must be a finite number");
        if (d.Min > d.Max) yield return ("min", "must not be greater than max");

        if (d.Bounds.Length == 0)
        {
            if (d.BucketCounts.Length > 0) yield return ("buckets.counts", "must be empty when there are no bounds");
            yield break;
        }

        if (d.Bounds.Length > MaxBounds)
        {
            yield return ("buckets.bounds", $"must have at most {MaxBounds} entries");
            yield break;
        }

        for (var i = 0; i < d.Bounds.Length; i++)
        {
            if (!double.IsFinite(d.Bounds[i]) || (i > 0 && d.Bounds[i] <= d.Bounds[i - 1]))
            {
                yield return ("buckets.bounds", "must be finite numbers in strictly increasing order");
                yield break;
            }
        }

        if (d.BucketCounts.Length != d.Bounds.Length + 1)
        {
            yield return ("buckets.counts", "must have one more entry than bounds");
            yield break;
        }

        long total = 0;
        foreach (var count in d.BucketCounts)
        {
            if (count < 0 || count > MaxObservations)
            {
                yield return ("buckets.counts", "must be whole numbers of at least 0");
                yield break;
            }

            total += count;
        }

        if (total != d.Count) yield return ("buckets.counts", "must add up to count");
    }

    // A batch's size, wherever it arrives: why it is refused, or null. The
    // field is the caller's to name: the HTTP API's body, a message's metrics.
    public static string? CheckCount(int count) => count switch
    {
        0 => "must contain at least one metric",
        > MaxBatchSize => $"must contain at most {MaxBatchSize} metrics, not {count}",
        _ => null,
    };

    public const string RepeatedId = "is repeated within the batch";

    // Every problem with a batch, as (index, field, reason). Empty when valid.
    // Valid points are checked without allocating (IsValid); only an invalid
    // one is walked again to name every problem. Storage checks every point
    // of every message, so this path is hot.
    public static List<MetricError> Check(IReadOnlyList<MetricPoint>? points, DateTimeOffset now)
    {
        var errors = new List<MetricError>();
        if (CheckCount(points?.Count ?? 0) is { } countError)
        {
            errors.Add(new MetricError(null, "metrics", countError));
            return errors;
        }

        var window = new TimeWindow(now);
        var seen = SeenIds ??= new HashSet<Guid>(MaxBatchSize);
        seen.Clear();
        for (var i = 0; i < points!.Count; i++)
        {
            var point = points[i];
            if (point is null)
            {
                errors.Add(new MetricError(i, "", "must be a metric object"));
                continue;
            }

            if (!IsValid(point, window))
            {
                foreach (var (field, reason) in Check(point, now))
                {
                    errors.Add(new MetricError(i, field, reason));
                }
            }

            if (!seen.Add(point.Id))
            {
                errors.Add(new MetricError(i, "id", RepeatedId));
            }
        }

        return errors;
    }

    // One set per thread, reused: checking is synchronous, and a batch holds at most MaxBatchSize ids.
    [ThreadStatic]
    private static HashSet<Guid>? SeenIds;

    public static bool IsValid(MetricPoint point, DateTimeOffset now) => IsValid(point, new TimeWindow(now));

    private static bool IsValid(MetricPoint point, TimeWindow window)
    {
        if (point.Id == Guid.Empty || CheckName(point.Metric) is not null || !double.IsFinite(point.Value)) return false;
        if (point.Timestamp < window.EarliestMs || point.Timestamp > window.LatestMs) return false;
        if (!IsValidText(point.Url, MaxUrlLength) || !IsValidText(point.UserAgent, MaxUrlLength)) return false;
        if (point.Tags is { } tags)
        {
            if (tags.Count > MaxTags) return false;
            foreach (var (key, value) in tags)
            {
                if (key.Length == 0 || key.Length > MaxTagKeyLength || HasControlCharacters(key) || !IsValidText(value, MaxTagValueLength)) return false;
            }
        }

        if (point.Distribution is not null && CheckDistribution(point.Distribution).Any()) return false;
        if (point.Cumulative is { } c && (c.Series == Guid.Empty || c.StartTime < 0 || c.StartTime > point.Timestamp)) return false;
        return true;
    }

    private static bool IsValidText(string? text, int maxLength) => text is null || (text.Length <= maxLength && !HasControlCharacters(text));

    private readonly struct TimeWindow(DateTimeOffset now)
    {
        public long EarliestMs { get; } = (now - MaxAge).ToUnixTimeMilliseconds();
        public long LatestMs { get; } = (now + MaxFuture).ToUnixTimeMilliseconds();
    }

    private static bool HasControlCharacters(string text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }
}

public sealed record MetricError(int? Index, string Field, string Reason)
{
    public override string ToString() =>
        Index is { } i
            ? string.Create(CultureInfo.InvariantCulture, $"[{i}].{Field}: {Reason}")
            : $"{Field}: {Reason}";
}
