using System.Collections.Concurrent;
using System.Diagnostics;
using ContentMax.Monitoring.Client.Aggregation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

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
// dictionary read (RequestMetrics): each (route, method, status) keeps its
// series and prebuilt tags, and recording is a short lock per metric.
internal sealed class RequestMetricsMiddleware(RequestDelegate next, MetricAggregator aggregator, RequestMetrics requests)
{
    public const string RequestsMetric = RequestMetrics.RequestsMetric;
    public const string ResponseTimeMetric = RequestMetrics.ResponseTimeMetric;
    public const string ErrorsMetric = "errors";
    public const string Unmatched = "unmatched";

    public async Task InvokeAsync(HttpContext context)
    {
        if (requests.Excludes(context.Request.Path))
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

    private void Record(HttpContext context, string route, int status, long started) =>
        requests.Record(route, MethodOf(context.Request.Method), status, Stopwatch.GetElapsedTime(started));

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

    // Templates written without a leading slash ("api/items/{id}") get one,
    // built once per template.
    private static class RouteTemplates
    {
        private static readonly ConcurrentDictionary<string, string> Known = new(StringComparer.Ordinal);

        public static string Rooted(string template) => Known.GetOrAdd(template, static t => "/" + t);
    }
}
