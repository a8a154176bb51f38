using System.Collections.Concurrent;
using System.Globalization;
using ContentMax.Monitoring.Client.Aggregation;
using Microsoft.AspNetCore.Http;

namespace ContentMax.Monitoring.Client.AspNetCore;

/// <summary>
/// Records one request as <c>UseContentMaxMonitoring()</c> does:
/// <c>api_requests</c> (one observation of 1) and <c>api_response_time</c>
/// (milliseconds), tagged route, method, status and service. The middleware
/// records every request of the ASP.NET Core pipeline through it; a server that
/// answers some requests before that pipeline (a connection handler of its own)
/// records those here, so they count the same. Registered by
/// <c>builder.AddContentMaxMonitoring()</c>; with the client disabled every call
/// returns at once.
/// </summary>
public sealed class RequestMetrics
{
    /// <summary>The metric counting requests.</summary>
    public const string RequestsMetric = "api_requests";

    /// <summary>The metric of response times, in milliseconds.</summary>
    public const string ResponseTimeMetric = "api_response_time";

    private static readonly string[] StatusTexts = Enumerable.Range(0, 600).Select(s => s.ToString(CultureInfo.InvariantCulture)).ToArray();

    private readonly MetricAggregator _aggregator;
    private readonly bool _enabled;
    private readonly PathString[] _excluded;
    private readonly ConcurrentDictionary<(string Route, string Method, int Status), RequestSeries> _requests = new();

    internal RequestMetrics(MetricAggregator aggregator, ContentMaxMonitoringOptions options)
    {
        _aggregator = aggregator;
        _enabled = options.Enabled;
        _excluded = [.. options.EffectiveExcludedPaths.Select(p => new PathString(p.TrimEnd('/') is { Length: > 0 } t ? t : "/"))];
    }

    /// <summary>Whether requests to the path are left out (<c>ExcludedPaths</c>): the middleware records none of them.</summary>
    /// <param name="path">The request's path.</param>
    /// <returns>True when the path is under an excluded prefix.</returns>
    public bool Excludes(PathString path)
    {
        foreach (var prefix in _excluded)
        {
            if (path.StartsWithSegments(prefix)) return true;
        }

        return false;
    }

    /// <summary>Records one request.</summary>
    /// <param name="route">The route template (never the raw path, whose ids would make a series each).</param>
    /// <param name="method">The request's method, as <c>HttpMethods</c> spells it.</param>
    /// <param name="status">The status code of the answer.</param>
    /// <param name="elapsed">The time from the request's start to its answer.</param>
    public void Record(string route, string method, int status, TimeSpan elapsed)
    {
        if (!_enabled) return;
        var series = _requests.GetOrAdd((route, method, status), static key => new RequestSeries(key.Route, key.Method, key.Status));
        _aggregator.Record(ref series.Requests, series.RequestsKey, 1);
        _aggregator.Record(ref series.ResponseTime, series.ResponseTimeKey, elapsed.TotalMilliseconds);
    }

    // The series of one route, method and status, with their keys built once.
    private sealed class RequestSeries
    {
        public RequestSeries(string route, string method, int status)
        {
            KeyValuePair<string, string>[] tags =
                [new("method", method), new("route", route), new("status", status is >= 0 and < 600 ? StatusTexts[status] : status.ToString(CultureInfo.InvariantCulture))];
            RequestsKey = new SeriesKey(RequestsMetric, [.. tags]);
            ResponseTimeKey = new SeriesKey(ResponseTimeMetric, [.. tags]);
        }

        public SeriesKey RequestsKey { get; }

        public SeriesKey ResponseTimeKey { get; }

        // Kept between requests; replaced when the aggregator retires them.
        public Series? Requests;

        public Series? ResponseTime;
    }
}
