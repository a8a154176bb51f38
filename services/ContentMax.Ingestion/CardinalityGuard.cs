using System.Collections.Concurrent;
using System.Globalization;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion;

// Bounds what one ingest key can make ContentMax (and Datadog) keep track of:
// at most Ingestion:Cardinality:MaxNamesPerHour distinct metric names, and at
// most MaxSeriesPerNamePerHour distinct tag combinations per name, per key
// and clock hour. A request that would pass either limit is refused whole
// (429, Retry-After until the hour turns, the limit and the names in the
// problem); points of names and series already seen this hour always pass,
// so nothing already flowing is cut off. Counted per ingestion instance.
public sealed class CardinalityGuard(IOptionsMonitor<IngestionOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, KeyState> _keys = new(StringComparer.Ordinal);

    private sealed class KeyState
    {
        public long Hour = -1;
        public readonly Dictionary<string, HashSet<ulong>> Names = new(StringComparer.Ordinal);
    }

    // Null when the points may pass (and they are then counted), else the 429 to answer.
    public ProblemHttpResult? Check(HttpContext context, IReadOnlyList<MetricPoint> points) =>
        Check(context, context.User.FindFirst(ApiKeyClaims.KeyName)?.Value, points);

    // The same for a key the caller has already identified (ingestion's fast lane).
    public ProblemHttpResult? Check(HttpContext context, string? key, IReadOnlyList<MetricPoint> points)
    {
        var settings = options.CurrentValue.Cardinality;
        if (!settings.Enabled || key is null) return null;

        var now = time.GetUtcNow();
        var hour = now.ToUnixTimeSeconds() / 3600;
        var state = _keys.GetOrAdd(key, static _ => new KeyState());
        lock (state)
        {
            if (state.Hour != hour)
            {
                state.Hour = hour;
                state.Names.Clear();
            }

            // What this request would add, before anything is counted: all or nothing.
            Dictionary<string, HashSet<ulong>>? added = null;
            for (var i = 0; i < points.Count; i++)
            {
                var point = points[i];
                var series = SeriesOf(point.Tags);
                if (state.Names.TryGetValue(point.Metric, out var known) && known.Contains(series)) continue;
                added ??= new Dictionary<string, HashSet<ulong>>(StringComparer.Ordinal);
                if (!added.TryGetValue(point.Metric, out var fresh)) added[point.Metric] = fresh = [];
                fresh.Add(series);
            }

            return added is null ? null : CountOrRefuse(context, key, settings.For(key), state, added, now);
        }
    }

    // New names or series: counted when both limits allow all of them, else the 429.
    private static ProblemHttpResult? CountOrRefuse(
        HttpContext context, string key, CardinalityLimits limits, KeyState state, Dictionary<string, HashSet<ulong>> added, DateTimeOffset now)
    {
        var newNames = added.Keys.Where(n => !state.Names.ContainsKey(n)).ToList();
        if (state.Names.Count + newNames.Count > limits.MaxNamesPerHour)
        {
            return Refuse(context, now, $"API key '{key}' has reached its limit of {limits.MaxNamesPerHour} distinct metric names this hour " +
                $"(Ingestion:Cardinality:MaxNamesPerHour); new here: {Sample(newNames)}. Nothing in this request was stored.");
        }

        foreach (var (name, fresh) in added)
        {
            var known = state.Names.GetValueOrDefault(name);
            var count = (known?.Count ?? 0) + fresh.Count(s => known?.Contains(s) != true);
            if (count > limits.MaxSeriesPerNamePerHour)
            {
                return Refuse(context, now, $"API key '{key}' has reached its limit of {limits.MaxSeriesPerNamePerHour} distinct tag combinations for " +
                    $"'{name}' this hour (Ingestion:Cardinality:MaxSeriesPerNamePerHour): a tag with unbounded values (an id, a timestamp) makes one " +
                    "series per value. Nothing in this request was stored.");
            }
        }

        foreach (var (name, fresh) in added)
        {
            if (!state.Names.TryGetValue(name, out var known)) state.Names[name] = known = [];
            known.UnionWith(fresh);
        }

        return null;
    }

    // One number per tag combination, whatever the order of the tags.
    private static ulong SeriesOf(Dictionary<string, string>? tags)
    {
        if (tags is null || tags.Count == 0) return 0;
        ulong sum = 0;
        foreach (var (k, v) in tags)
        {
            var h = (ulong)(uint)HashCode.Combine(k, v);
            h = (h << 32) | (uint)HashCode.Combine(v, k, 0x5bd1e995);
            sum += h * 0x9E3779B97F4A7C15UL;
        }

        return sum == 0 ? 1 : sum;
    }

    private static string Sample(List<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    private static ProblemHttpResult Refuse(HttpContext context, DateTimeOffset now, string detail)
    {
        var untilNextHour = 3600 - now.ToUnixTimeSeconds() % 3600;
        context.Response.Headers.RetryAfter = untilNextHour.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Cardinality limit reached");
    }
}

public class CardinalityLimits
{
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int MaxNamesPerHour { get; set; } = 1000;

    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int MaxSeriesPerNamePerHour { get; set; } = 2000;
}

// Ingestion:Cardinality: the limits for every key, and per named key
// (Ingestion:Cardinality:Keys:<key name>:MaxNamesPerHour, ...).
public sealed class CardinalityOptions : CardinalityLimits
{
    public bool Enabled { get; set; } = true;

    public Dictionary<string, CardinalityLimits> Keys { get; set; } = new(StringComparer.Ordinal);

    public CardinalityLimits For(string key) => Keys.GetValueOrDefault(key) ?? this;
}
