using System.Globalization;
using ContentMax.Contracts;
using ContentMax.Contracts.Http;
using ContentMax.ServiceDefaults;
using System.ComponentModel;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

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
            .WithSummary("Time buckets of one metric for charts, optionally filtered by tags and split into the top groups of up to two tag keys.")
            .WithDescription("`buckets` holds every matching point per step, ungrouped. `series` holds one entry per top group (by `agg` over the whole period, "
                + "descending, for min too), the rest merged into one entry with `other: true`, last; without groupBy, one entry labelled \"all\". "
                + "A group-by with more than Aggregation:MaxGroups distinct values in the period is answered 400 on `groupBy`.");
        group.MapGet("/breakdown", GetBreakdownAsync).WithName("GetMetricBreakdown")
            .WithSummary("Aggregates of one metric per value of one or two tags, such as api_response_time per endpoint, optionally filtered by tags.")
            .WithDescription("Groups are ranked by `agg` over the period (count unless asked), descending; beyond `limit` they are merged into one \"other\" group, "
                + "listed last in `groups` and left out of `values`. Points without a group-by tag are grouped under the empty value.");
        group.MapGet("/tags", GetTagsAsync).WithName("GetMetricTags")
            .WithSummary("The tag keys seen on one metric in a period, each with its 50 most frequent values (by observations), to offer filters and group-by choices.");
        group.MapGet("/raw", GetRawAsync).WithName("GetRawMetrics")
            .WithSummary("Raw metric rows, newest first, paginated with an opaque cursor.");
        return app;
    }

    public const int DefaultNames = 500;
    public const int MaxNames = 5000;

    public const int MaxSeriesGroups = 50;

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
        ExplorerQueries explorer, IOptions<AggregationOptions> options, TimeProvider time, CancellationToken cancellationToken,
        [Description("The metric name (required).")] string? metric = null,
        [Description("How far back from now: hours, days, weeks or 30-day months, such as 6h, 24h, 7d, 2w, 1m (default 24h).")] string? period = null,
        [Description("The chart step, such as 1m, 5m or 1h (default: about 120 steps over the period).")] string? step = null,
        [Description(FilterDescription)] string[]? filter = null,
        [Description("Repeatable: up to 2 distinct tag keys to split the series by, such as groupBy=route.")] string[]? groupBy = null,
        [Description("count, sum, avg, min, max, p50, p75, p95 or p99 (default avg): each point's value and the figure groups are ranked by.")] string? agg = null,
        [Description("How many groups to chart, 1-50 (default 10); the rest are merged into one \"other\" series.")] string? limit = null)
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

        var filters = ExplorerQuery.ParseFilters(filter, errors);
        var keys = ExplorerQuery.ParseGroupBy(groupBy, errors);
        var aggregation = ExplorerQuery.ParseAggregation(agg, "avg", errors);
        var take = ReadLimit(limit, 10, MaxSeriesGroups, errors);

        if (errors.Count > 0) return Invalid(errors);

        stepSize = step is null ? DefaultStep(window) : stepSize;
        if (window.Ticks / stepSize.Ticks > MaxSeriesBuckets)
        {
            return Invalid(new() { ["step"] = [$"gives more than {MaxSeriesBuckets} buckets for the period; use a larger step"] });
        }

        var query = new ExplorerQuery(filters, keys, aggregation, take);
        var to = time.GetUtcNow();
        var from = to - window;
        ExplorerQueries.Cells cells;
        try
        {
            cells = await explorer.ReadAsync(from.UtcDateTime, to.UtcDateTime, metric!, query, stepSize, cancellationToken);
        }
        catch (ExplorerQueries.TooManyGroupsException tooMany)
        {
            return TooManyGroups(keys, tooMany.MaxGroups);
        }

        var (buckets, series) = ExplorerAnswers.Series(cells.ByCell, query, from.UtcDateTime, to.UtcDateTime, stepSize, options.Value.ExactLimit);
        return TypedResults.Ok(new SeriesResponse(metric!, period ?? Period.Default, step ?? FormatStep(stepSize), from, to, buckets,
            aggregation, keys, query.FilterTexts, series, Truncated: false));
    }

    internal static async Task<Results<Ok<BreakdownResponse>, ValidationProblem>> GetBreakdownAsync(
        ExplorerQueries explorer, IOptions<AggregationOptions> options, TimeProvider time, CancellationToken cancellationToken,
        [Description("The metric name (required).")] string? metric = null,
        [Description("The tag key to break the metric down by; the same as groupBy=<tag>. One of tag or groupBy is required.")] string? tag = null,
        [Description("How far back from now: hours, days, weeks or 30-day months, such as 6h, 24h, 7d, 2w, 1m (default 24h).")] string? period = null,
        [Description("How many groups to return, 1-500 (default 50), ranked by agg; the rest are merged into one \"other\" group.")] string? limit = null,
        [Description(FilterDescription)] string[]? filter = null,
        [Description("Repeatable: up to 2 distinct tag keys to group by; `values` is keyed by the tag value (1 key) or the label \"k1=v1, k2=v2\" (2 keys).")] string[]? groupBy = null,
        [Description("count, sum, avg, min, max, p50, p75, p95 or p99: the figure groups are ranked by (default count).")] string? agg = null)
    {
        var errors = new Dictionary<string, string[]>();
        var window = ReadPeriod(period, errors);
        if (metric is null) errors["metric"] = ["is required"];
        else ReadMetricName(metric, errors);

        if (string.IsNullOrEmpty(tag) && groupBy is not { Length: > 0 }) errors["tag"] = ["is required (or groupBy)"];
        else if (MetricRules.CheckText(tag, MetricRules.MaxTagKeyLength) is { } tagError) errors["tag"] = [tagError];

        var filters = ExplorerQuery.ParseFilters(filter, errors);
        // tag=x is groupBy=x; given with groupBy, it comes first.
        string[] wanted = [.. (tag is { Length: > 0 } && !errors.ContainsKey("tag") ? new[] { tag } : []), .. (groupBy ?? []).Where(k => k != tag)];
        var keys = ExplorerQuery.ParseGroupBy(wanted, errors);
        var aggregation = ExplorerQuery.ParseAggregation(agg, "count", errors);
        var take = ReadLimit(limit, 50, 500, errors);

        if (errors.Count > 0) return Invalid(errors);

        var query = new ExplorerQuery(filters, keys, aggregation, take);
        var to = time.GetUtcNow();
        ExplorerQueries.Cells cells;
        try
        {
            cells = await explorer.ReadAsync((to - window).UtcDateTime, to.UtcDateTime, metric!, query, null, cancellationToken);
        }
        catch (ExplorerQueries.TooManyGroupsException tooMany)
        {
            return TooManyGroups(keys, tooMany.MaxGroups);
        }

        var groups = ExplorerAnswers.Breakdown(cells.ByCell, query, options.Value.ExactLimit);
        var values = new Dictionary<string, MetricAggregate>(StringComparer.Ordinal);
        foreach (var g in groups.Where(g => !g.Other))
        {
            values[keys.Count == 1 ? g.Group[keys[0]] : g.Label] = g.Aggregate;
        }

        return TypedResults.Ok(new BreakdownResponse(metric!, string.Join(",", keys), period ?? Period.Default, to - window, to, values,
            keys, query.FilterTexts, aggregation, groups, Truncated: false));
    }

    public const int TagValuesPerKey = 50;

    internal static async Task<Results<Ok<TagsResponse>, ValidationProblem>> GetTagsAsync(
        ExplorerQueries explorer, TimeProvider time, CancellationToken cancellationToken,
        [Description("The metric name (required).")] string? metric = null,
        [Description("How far back from now: hours, days, weeks or 30-day months, such as 6h, 24h, 7d, 2w, 1m (default 24h).")] string? period = null)
    {
        var errors = new Dictionary<string, string[]>();
        var window = ReadPeriod(period, errors);
        if (metric is null) errors["metric"] = ["is required"];
        else ReadMetricName(metric, errors);
        if (errors.Count > 0) return Invalid(errors);

        var to = time.GetUtcNow();
        var keys = await explorer.TagsAsync((to - window).UtcDateTime, to.UtcDateTime, metric!, TagValuesPerKey, cancellationToken);
        return TypedResults.Ok(new TagsResponse(metric!, period ?? Period.Default, keys));
    }

    private const string FilterDescription =
        "Repeatable, at most 10: key:value keeps points whose tag equals the value, key!=value those whose tag differs (or is absent). "
        + "Several key:value filters on one key are alternatives (OR); filters on different keys and every != filter all apply (AND).";

    private static ValidationProblem TooManyGroups(List<string> keys, int maxGroups) => Invalid(new()
    {
        ["groupBy"] = [$"{string.Join(" and ", keys.Select(k => $"'{k}'"))} {(keys.Count == 1 ? "has" : "have")} more than {maxGroups} distinct values in the period; add a filter or choose a shorter period"],
    });

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
