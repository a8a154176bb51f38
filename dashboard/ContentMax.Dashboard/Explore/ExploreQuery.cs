using ContentMax.Contracts.Http;
using System.Globalization;
using System.Text;
using ContentMax.Dashboard.Backend;
using ContentMax.ServiceDefaults;
using Microsoft.AspNetCore.WebUtilities;

namespace ContentMax.Dashboard.Explore;

// Everything the explorer shows, as the query string holds it: a link
// reproduces the view. The parameters are named as aggregation's read API
// names them (/api/metrics/series), so the same string is the API call.
public sealed record ExploreQuery(
    string? Metric, string Agg, IReadOnlyList<string> Filters, IReadOnlyList<string> GroupBy, string Period, string? Step, int Limit)
{
    public static readonly string[] Aggregations = ["count", "sum", "avg", "min", "max", "p50", "p75", "p95", "p99"];
    public static readonly string[] Periods = ["1h", "6h", "24h", "7d", "30d"];
    public static readonly string[] Steps = ["1m", "5m", "15m", "1h", "6h", "1d"];
    public const int DefaultLimit = 10;
    public const int MaxLimit = 50;
    public const int MaxFilters = 10;
    public const int MaxGroupBy = 2;

    public static ExploreQuery Empty { get; } = new(null, "p95", [], [], "24h", null, DefaultLimit);

    public bool HasMetric => !string.IsNullOrEmpty(Metric);

    // Read leniently from a link: unknown values fall back to the defaults, so
    // an old or hand-edited link still opens a view (aggregation validates again).
    public static ExploreQuery Parse(string query)
    {
        var values = QueryHelpers.ParseQuery(query);
        string? One(string name) => values.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrWhiteSpace(v[0]) ? v[0]!.Trim() : null;
        IReadOnlyList<string> Many(string name, int max) => values.TryGetValue(name, out var v)
            ? v.Where(x => !string.IsNullOrWhiteSpace(x)).Select(x => x!.Trim()).Distinct(StringComparer.Ordinal).Take(max).ToList()
            : [];

        var agg = One("agg") is { } a && Aggregations.Contains(a) ? a : Empty.Agg;
        var period = One("period") is { } p && ServiceDefaults.Period.TryParse(p, out _, out _) ? p : Empty.Period;
        var step = One("step") is { } s && ServiceDefaults.Period.TryParseStep(s, out _, out _) ? s : null;
        var limit = int.TryParse(One("limit"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit ? n : DefaultLimit;
        return new ExploreQuery(One("metric"), agg, Many("filter", MaxFilters), Many("groupBy", MaxGroupBy), period, step, limit);
    }

    // The query string, parameters in a fixed order, defaults left out.
    public string ToQueryString()
    {
        var parts = new List<string>();
        void Add(string name, string value) => parts.Add($"{name}={Uri.EscapeDataString(value)}");
        if (HasMetric) Add("metric", Metric!);
        Add("agg", Agg);
        foreach (var g in GroupBy) Add("groupBy", g);
        foreach (var f in Filters) Add("filter", f);
        Add("period", Period);
        if (Step is not null) Add("step", Step);
        if (Limit != DefaultLimit) Add("limit", Limit.ToString(CultureInfo.InvariantCulture));
        return "?" + string.Join("&", parts);
    }

    public string ExplorerUrl => "/explore" + ToQueryString();

    public string SeriesPath => "/api/metrics/series" + ToQueryString();

    // The same view from a shell: the read key comes from the environment, never from the page.
    public string Curl(string aggregationUrl) =>
        $"curl -s '{aggregationUrl.TrimEnd('/')}{SeriesPath}' -H \"X-Api-Key: $CONTENTMAX_READ_KEY\"";

    public ExploreQuery WithFilter(string filter) =>
        Filters.Contains(filter) || Filters.Count >= MaxFilters ? this : this with { Filters = [.. Filters, filter] };

    public ExploreQuery WithoutFilter(string filter) => this with { Filters = [.. Filters.Where(f => f != filter)] };

    // "key:value" or "key!=value", split where aggregation splits it.
    public static (string Key, bool Equal, string Value)? SplitFilter(string filter)
    {
        var colon = filter.IndexOf(':');
        var not = filter.IndexOf("!=", StringComparison.Ordinal);
        if (not >= 0 && (colon < 0 || not < colon)) return (filter[..not], false, filter[(not + 2)..]);
        if (colon >= 0) return (filter[..colon], true, filter[(colon + 1)..]);
        return null;
    }
}

// The explorer's numbers as CSV: one row per series and step, with the
// series' tag values in their own columns, so a spreadsheet can pivot them.
public static class ExploreCsv
{
    public static string Write(ExploreQuery query, SeriesResponse report)
    {
        var keys = query.GroupBy;
        var csv = new StringBuilder();
        csv.Append("series");
        foreach (var key in keys) csv.Append(',').Append(Escape(key));
        csv.Append(",start,count,").Append(Escape(query.Agg)).Append('\n');
        foreach (var series in report.Series ?? [])
        {
            foreach (var point in series.Points)
            {
                csv.Append(Escape(series.Label));
                foreach (var key in keys) csv.Append(',').Append(Escape(series.Other ? "" : series.Group.GetValueOrDefault(key) ?? ""));
                csv.Append(',').Append(point.Start.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))
                    .Append(',').Append(point.Count.ToString(CultureInfo.InvariantCulture))
                    .Append(',').Append(point.Value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "")
                    .Append('\n');
            }
        }

        return csv.ToString();
    }

    // RFC 4180 quoting, and a leading ' for text a spreadsheet would run as a formula.
    private static string Escape(string text)
    {
        if (text.Length > 0 && "=+-@\t\r".Contains(text[0])) text = "'" + text;
        return text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }
}
