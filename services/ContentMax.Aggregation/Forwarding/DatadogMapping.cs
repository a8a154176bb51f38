using System.Text.RegularExpressions;

namespace ContentMax.Aggregation.Forwarding;

public enum DatadogKind
{
    Count,
    Gauge,
    Distribution,
}

// How metrics and their tags become Datadog series (DatadogPayload).
//
// Kinds: Datadog:Types:<metric>=count|gauge|distribution first; then a point
// that stands for many observations (an OTLP or Prometheus histogram, the
// client library's timings) is a distribution; then by name: *_total, *_count,
// *_requests, errors and the seed's counted KPIs are counts; timings (*_time,
// *_ms, *_seconds, *_duration*, *_latency*) and the web vitals are
// distributions; anything else is a gauge.
//
// Tags: only keys in Datadog:AllowedTags (default route, method, status,
// service) are forwarded, so a client cannot create unbounded billable custom
// metrics; env is always ContentMax's own, never a client's.
public sealed partial class DatadogMapping(DatadogOptions options)
{
    private readonly HashSet<string> _allowed = new(options.AllowedTags.Where(t => t != "env"), StringComparer.Ordinal);
    private readonly string _env = "env:" + (options.Environment ?? "development");

    public DatadogKind KindOf(string metric, bool manyObservations)
    {
        if (options.Types.TryGetValue(metric, out var configured) && Enum.TryParse<DatadogKind>(configured, ignoreCase: true, out var kind)) return kind;
        if (manyObservations) return DatadogKind.Distribution;
        if (CountName().IsMatch(metric)) return DatadogKind.Count;
        if (TimingName().IsMatch(metric)) return DatadogKind.Distribution;
        return DatadogKind.Gauge;
    }

    public string[] Tags(string[]? pointTags)
    {
        var tags = new List<string>((pointTags?.Length ?? 0) + 2);
        var service = false;
        foreach (var tag in pointTags ?? [])
        {
            var colon = tag.IndexOf(':');
            var key = colon < 0 ? tag : tag[..colon];
            if (!_allowed.Contains(key)) continue;
            service |= key == "service";
            tags.Add(tag);
        }

        tags.Add(_env);
        if (!service) tags.Add("service:contentmax");
        return [.. tags];
    }

    public static readonly string[] DefaultAllowedTags = ["route", "method", "status", "service"];

    [GeneratedRegex(@"(_total|_count|_requests|^errors|^api_requests|^opportunities_scored|^revenue_calculated)$")]
    private static partial Regex CountName();

    [GeneratedRegex(@"(_time|_ms|_seconds|_duration.*|_latency.*|(^|_)(lcp|inp|fcp|ttfb|cls))$", RegexOptions.IgnoreCase)]
    private static partial Regex TimingName();
}
