using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContentMax.Monitoring.Client.Aggregation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client.AspNetCore;

// Records every request that is not excluded:
//   api_requests       one observation of 1
//   api_response_time  milliseconds until the rest of the pipeline returned
// tagged route (the endpoint's route template, never the raw path, so ids in
// paths cannot blow up the number of series; "unmatched" without an endpoint),
// method, status (the final status code) and service. An unhandled exception
// also records errors {level=error, type, route} and is rethrown; the request
// counts as status 500 (or 499 when the client went away).
//
// It sits on every request, so the common case does no lookups beyond one
// dictionary read: each (route, method, status) keeps its series and prebuilt
// tags, and recording is a short lock per metric.
internal sealed class RequestMetricsMiddleware(RequestDelegate next, MetricAggregator aggregator, IOptions<ContentMaxMonitoringOptions> options)
{
    public const string RequestsMetric = "api_requests";
    public const string ResponseTimeMetric = "api_response_time";
    public const string ErrorsMetric = "errors";
    public const string Unmatched = "unmatched";

    private static readonly string[] StatusTexts = Enumerable.Range(0, 600).Select(s => s.ToString(CultureInfo.InvariantCulture)).ToArray();

    private readonly PathString[] _excluded = [.. options.Value.EffectiveExcludedPaths.Select(p => new PathString(p.TrimEnd('/') is { Length: > 0 } t ? t : "/"))];
    private readonly ConcurrentDictionary<(string Route, string Method, int Status), RequestSeries> _requests = new();

    public async Task InvokeAsync(HttpContext context)
    {
        if (IsExcluded(context.Request.Path))
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            var aborted = e is OperationCanceledException && context.RequestAborted.IsCancellationRequested;
            var route = RouteOf(context);
            Record(context, route, aborted ? 499 : StatusCodes.Status500InternalServerError, started);
            // A client that went away is not an error of the service.
            if (!aborted)
            {
                aggregator.Record(new SeriesKey(ErrorsMetric, [new("level", "error"), new("type", e.GetType().Name), new("route", route)]), 1);
            }

            throw;
        }

        Record(context, RouteOf(context), context.Response.StatusCode, started);
    }

    private bool IsExcluded(PathString path)
    {
        foreach (var prefix in _excluded)
        {
            if (path.StartsWithSegments(prefix)) return true;
        }

        return false;
    }

    private void Record(HttpContext context, string route, int status, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var method = MethodOf(context.Request.Method);
        var series = _requests.GetOrAdd((route, method, status), static key => new RequestSeries(key.Route, key.Method, key.Status));
        aggregator.Record(ref series.Requests, series.RequestsKey, 1);
        aggregator.Record(ref series.ResponseTime, series.ResponseTimeKey, elapsed);
    }

    // The endpoint is read after the pipeline ran, so the middleware may sit
    // before or after UseRouting.
    private static string RouteOf(HttpContext context) =>
        context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { Length: > 0 } template }
            ? template[0] == '/' ? template : RouteTemplates.Rooted(template)
            : Unmatched;

    // Methods come from clients; anything unusual is one series, not one each.
    private static string MethodOf(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get
        : HttpMethods.IsPost(method) ? HttpMethods.Post
        : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete
        : HttpMethods.IsPatch(method) ? HttpMethods.Patch
        : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsOptions(method) ? HttpMethods.Options
        : "OTHER";

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

    // Templates written without a leading slash ("api/items/{id}") get one,
    // built once per template.
    private static class RouteTemplates
    {
        private static readonly ConcurrentDictionary<string, string> Known = new(StringComparer.Ordinal);

        public static string Rooted(string template) => Known.GetOrAdd(template, static t => "/" + t);
    }
}
