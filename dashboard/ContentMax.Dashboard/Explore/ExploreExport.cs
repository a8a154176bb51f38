using ContentMax.Dashboard.Backend;
namespace ContentMax.Dashboard.Explore;

// /explore/export.csv?<the explorer's query>: the numbers the explorer shows,
// for a spreadsheet. Signed-in operators only, like the page.
public static class ExploreExport
{
    public static IEndpointRouteBuilder MapExploreExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/explore/export.csv", async (HttpContext context, MetricsClient metrics, CancellationToken ct) =>
        {
            var query = ExploreQuery.Parse(context.Request.QueryString.Value ?? "");
            if (!query.HasMetric) return Results.Text("Choose a metric: metric= is missing.", "text/plain", statusCode: StatusCodes.Status400BadRequest);

            var report = await metrics.ExploreAsync(query, ct);
            if (!report.Ok) return Results.Text(report.Error, "text/plain", statusCode: report.Error!.StartsWith("The query is not valid", StringComparison.Ordinal) ? 400 : 502);

            var file = $"{Safe(query.Metric!)}-{query.Agg}-{query.Period}.csv";
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{file}\"";
            return Results.Text(ExploreCsv.Write(query, report.Value!), "text/csv; charset=utf-8");
        }).RequireAuthorization();
        return app;
    }

    private static string Safe(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_')]);
}
