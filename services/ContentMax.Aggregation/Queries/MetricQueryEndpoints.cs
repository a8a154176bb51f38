using System.Globalization;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentMax.Aggregation.Queries;

public static class MetricQueryEndpoints
{
    public const int MaxRawLimit = 1000;
    public const int MaxSeriesBuckets = 2000;

    public static IEndpointRouteBuilder MapMetricQueries(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/metrics").WithTags("Metrics").RequireAuthorization(ApiRoles.Read)
            // One set of limits for every endpoint of the group (the singleton, not one per endpoint).
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<QueryLimits>().InvokeAsync(context, next))
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/", GetAggregatesAsync).WithName("GetMetricAggregates")
            .WithSummary("Count, sum, min, max, average, median, p95 and p99 per metric name over a period; without metric=, the `limit` (500) names with the most observations.");
        group.MapGet("/series", GetSeriesAsync).WithName("GetMetricSeries")
            .WithSummary("Time buckets of one metric for charts.");
        group.MapGet("/breakdown", GetBreakdownAsync).WithName("GetMetricBreakdown")
            .WithSummary("Aggregates of one metric per value of one tag, such as api_response_time per endpoint.");
        group.MapGet("/raw", GetRawAsync).WithName("GetRawMetrics")
            .WithSummary("Raw metric rows, newest first, paginated with an opaque cursor.");
        return app;
    }

    // Without metric=, at most `limit` names (500 unless asked), those with the
    // most observations; TotalNames and Truncated say how many there were.
    public sealed record AggregatesResponse(string Period, DateTimeOffset From, DateTimeOffset To, SortedDictionary<string, MetricAggregate> Metrics,
        int TotalNames = 0, bool Truncated = false);

    public const int DefaultNames = 500;
    public const int MaxNames = 5000;

    public sealed record SeriesResponse(string Metric, string Period, string Step, DateTimeOffset From, DateTimeOffset To, List<SeriesBucket> Buckets);

    public sealed record BreakdownResponse(string Metric, string Tag, string Period, DateTimeOffset From, DateTimeOffset To, Dictionary<string, MetricAggregate> Values);

    public sealed record RawResponse(List<RawMetric> Items, string? NextCursor);

    internal static async Task<Results<Ok<AggregatesResponse>, ValidationProblem>> GetAggregatesAsync(
        MetricQueries queries, QueryCache cache, TimeProvider time, CancellationToken cancellationToken, string? period = null, string? metric = null,
        string? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        var window = ReadPeriod(period, errors);
        ReadMetricName(metric, errors);
        var names = ReadLimit(limit, DefaultNames, MaxNames, errors);

        if (errors.Count > 0) return Invalid(errors);

        async Task<AggregatesResponse> QueryAsync(CancellationToken ct)
        {
            var to = time.GetUtcNow();
            var from = to - window;
            var all = await queries.AggregateAsync(from, to, metric, ct);
            var shown = all.Count <= names
                ? all
                : new SortedDictionary<string, MetricAggregate>(all.OrderByDescending(m => m.Value.Count).Take(names).ToDictionary(), StringComparer.Ordinal);
            return new AggregatesResponse(period ?? Period.Default, from, to, shown, all.Count, all.Count > names);
        }

        // All-names queries are what dashboards poll; those are shared through the cache.
        var response = metric is null
            ? await cache.GetOrCreateAsync($"aggregates:{window.Ticks}:{names}", QueryAsync, cancellationToken)
            : await QueryAsync(cancellationToken);
        // Keyed by the window itself, so "024h" and "24h" share one entry; each
        // answer still names the period as its caller wrote it.
        return TypedResults.Ok(response with { Period = period ?? Period.Default });
    }

    internal static async Task<Results<Ok<SeriesResponse>, ValidationProblem>> GetSeriesAsync(
        MetricQueries queries, TimeProvider time, CancellationToken cancellationToken,
        string? metric = null, string? period = null, string? step = null)
    {
        var errors = new Dictionary<string, string[]>();
        var window = ReadPeriod(period, errors);
        if (metric is null) errors["metric"] = ["is required"];
        else ReadMetricName(metric, errors);

        var stepSize = TimeSpan.Zero;
        if (step is not null && !Period.TryParseStep(step, out stepSize, out var stepError))
        {
            errors["step"] = [stepError];
        }

        if (errors.Count > 0) return Invalid(errors);

        stepSize = step is null ? DefaultStep(window) : stepSize;
        if (window.Ticks / stepSize.Ticks > MaxSeriesBuckets)
        {
            return Invalid(new() { ["step"] = [$"gives more than {MaxSeriesBuckets} buckets for the period; use a larger step"] });
        }

        var to = time.GetUtcNow();
        var from = to - window;
        var buckets = await queries.SeriesAsync(from, to, metric!, stepSize, cancellationToken);
        return TypedResults.Ok(new SeriesResponse(metric!, period ?? Period.Default, step ?? FormatStep(stepSize), from, to, buckets));
    }

    internal static async Task<Results<Ok<BreakdownResponse>, ValidationProblem>> GetBreakdownAsync(
        MetricQueries queries, TimeProvider time, CancellationToken cancellationToken,
        string? metric = null, string? tag = null, string? period = null, string? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        var window = ReadPeriod(period, errors);
        if (metric is null) errors["metric"] = ["is required"];
        else ReadMetricName(metric, errors);

        if (string.IsNullOrEmpty(tag)) errors["tag"] = ["is required"];
        else if (MetricRules.CheckText(tag, MetricRules.MaxTagKeyLength) is { } tagError) errors["tag"] = [tagError];

        var take = ReadLimit(limit, 50, 500, errors);

        if (errors.Count > 0) return Invalid(errors);

        var to = time.GetUtcNow();
        var values = await queries.BreakdownAsync(to - window, to, metric!, tag!, take, cancellationToken);
        return TypedResults.Ok(new BreakdownResponse(metric!, tag!, period ?? Period.Default, to - window, to, values));
    }

    internal static async Task<Results<Ok<RawResponse>, ValidationProblem>> GetRawAsync(
        MetricQueries queries, TimeProvider time, CancellationToken cancellationToken,
        string? metric = null, string? period = null, string? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        var window = ReadPeriod(period, errors);
        if (metric is not null) ReadMetricName(metric, errors);

        var take = ReadLimit(limit, 100, MaxRawLimit, errors);

        RawCursor? after = null;
        if (cursor is not null && !RawCursor.TryDecode(cursor, out after))
        {
            errors["cursor"] = ["is not a cursor this API returned"];
        }

        if (errors.Count > 0) return Invalid(errors);

        var to = time.GetUtcNow();
        var (items, next) = await queries.RawAsync(to - window, to, metric, after, take, cancellationToken);
        return TypedResults.Ok(new RawResponse(items, next?.Encode()));
    }

    // `limit`, or the default when absent; anything but a whole number from 1 to max is an error.
    private static int ReadLimit(string? limit, int fallback, int max, Dictionary<string, string[]> errors)
    {
        if (limit is null) return fallback;
        if (int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= max) return value;
        errors["limit"] = [$"must be a whole number from 1 to {max}"];
        return fallback;
    }

    private static TimeSpan ReadPeriod(string? period, Dictionary<string, string[]> errors)
    {
        if (!Period.TryParse(period, out var window, out var error))
        {
            errors["period"] = [error];
        }

        return window;
    }

    private static void ReadMetricName(string? metric, Dictionary<string, string[]> errors)
    {
        if (metric is not null && MetricRules.CheckName(metric) is { } reason)
        {
            errors["metric"] = [reason];
        }
    }

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The query is not valid.");

    // About 120 points per chart, rounded to a familiar step.
    internal static TimeSpan DefaultStep(TimeSpan window)
    {
        TimeSpan[] steps =
        [
            TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15),
            TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(3), TimeSpan.FromHours(6),
            TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(7),
        ];
        foreach (var candidate in steps)
        {
            if (window.Ticks / candidate.Ticks <= 120) return candidate;
        }

        return TimeSpan.FromDays(30);
    }

    internal static string FormatStep(TimeSpan step) =>
        step.TotalDays >= 1 && step.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)step.TotalDays}d"
        : step.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)step.TotalHours}h"
        : step.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)step.TotalMinutes}m"
        : $"{(long)step.TotalSeconds}s";
}
