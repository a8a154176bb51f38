using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentMax.Alerting.Api;

// /api/slos: each SLO's current SLI, the error budget left (now and as a chart
// over the window) and burn rates over 5m, 30m, 1h, 6h and 3d.
public static class SloEndpoints
{
    public const int ChartPoints = 60;

    public static IEndpointRouteBuilder MapSlos(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/slos").WithTags("SLOs").RequireAuthorization(ApiRoles.Read);
        read.MapGet("/", GetSlosAsync).WithSummary("Every SLO with its SLI, error budget and burn rates.");
        read.MapGet("/{id}", GetSloAsync).WithSummary("One SLO with its SLI, error budget (and its chart) and burn rates.");

        var admin = app.MapGroup("/api/slos").WithTags("SLOs").RequireAuthorization(ApiRoles.Admin);
        admin.MapPut("/{id}", PutSloAsync).WithSummary("Create or replace an SLO (its counts start afresh).");
        admin.MapDelete("/{id}", DeleteSloAsync).WithSummary("Delete an SLO created through the API.");
        return app;
    }

    internal static async Task<Ok<List<SloReport>>> GetSlosAsync(
        RuleStore ruleStore, EvaluationStore evaluationStore, SloTracker tracker, TimeProvider time, CancellationToken cancellationToken, bool chart = false)
    {
        var now = time.GetUtcNow();
        var states = await evaluationStore.StatesAsync(cancellationToken);
        var reports = new List<SloReport>();
        foreach (var stored in await ruleStore.SlosAsync(cancellationToken))
        {
            reports.Add(await ReportAsync(stored, tracker, states, now, chart, cancellationToken));
        }

        return TypedResults.Ok(reports);
    }

    internal static async Task<Results<Ok<SloReport>, ProblemHttpResult>> GetSloAsync(
        string id, RuleStore ruleStore, EvaluationStore evaluationStore, SloTracker tracker, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await ruleStore.SloAsync(id, cancellationToken) is not { } stored) return AlertEndpoints.NotFoundProblem("SLO", id);
        var states = await evaluationStore.StatesAsync(cancellationToken);
        return TypedResults.Ok(await ReportAsync(stored, tracker, states, time.GetUtcNow(), chart: true, cancellationToken));
    }

    private static async Task<SloReport> ReportAsync(
        StoredSlo stored, SloTracker tracker, Dictionary<string, StoredState> states, DateTimeOffset now, bool chart, CancellationToken cancellationToken)
    {
        var slo = stored.Slo;
        var windows = BurnRate.ReportedWindows.Prepend(slo.Window).ToArray();
        var counts = await tracker.CountsAsync(slo.Id, now, windows, cancellationToken);
        var whole = counts[0];
        var burnRates = counts.Skip(1).ToDictionary(c => Duration.Format(c.Window), c => BurnRate.Rate(c.Good, c.Total, slo.ObjectiveFraction));
        var firing = slo.BurnRules().Where(r => states.GetValueOrDefault(r.Id)?.Status.State == AlertState.Firing).Select(r => r.Id).ToList();
        return new SloReport(View(slo), stored.Source, whole.Good, whole.Total, BurnRate.Sli(whole.Good, whole.Total),
            BurnRate.ErrorBudget(slo.ObjectiveFraction), BurnRate.BudgetRemaining(whole.Good, whole.Total, slo.ObjectiveFraction), burnRates,
            chart ? await tracker.BudgetSeriesAsync(slo, now, ChartPoints, cancellationToken) : null, firing);
    }

    // The definition as the API shows it: what alerting derives from it stays out.
    internal static SloView View(SloDefinition slo) =>
        new(slo.Id, slo.Name, slo.Description, slo.Enabled, slo.Objective, Duration.Format(slo.Window), View(slo.Good), View(slo.Total), slo.Labels, slo.Runbook);

    private static MetricSelectorView View(MetricSelector selector) =>
        new(selector.Metric, selector.Tags, selector.Where?.Select(w => new ValueFilterView(w.Tag, w.Op, w.Value)).ToList());

    internal static async Task<Results<Created<SloDefinition>, Ok<SloDefinition>, ValidationProblem>> PutSloAsync(
        string id, HttpRequest request, RuleStore store, CancellationToken cancellationToken)
    {
        var (slo, errors) = await AlertEndpoints.ReadBodyAsync<SloDefinition>(request, cancellationToken);
        if (slo is null) return AlertEndpoints.Invalid(errors);
        if (slo.Id.Length == 0) slo = slo with { Id = id };
        errors = AlertingValidation.Check(slo);
        if (slo.Id != id) errors["id"] = ["must match the id in the URL"];
        if (errors.Count > 0) return AlertEndpoints.Invalid(errors);

        return await store.PutSloAsync(slo, AlertAudit.Actor(request.HttpContext.User), cancellationToken)
            ? TypedResults.Created($"/api/slos/{id}", slo)
            : TypedResults.Ok(slo);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteSloAsync(
        string id, HttpRequest request, RuleStore store, CancellationToken cancellationToken) =>
        await store.DeleteSloAsync(id, AlertAudit.Actor(request.HttpContext.User), cancellationToken) switch
        {
            DeleteOutcome.Deleted => TypedResults.NoContent(),
            DeleteOutcome.Seeded => AlertEndpoints.SeededConflict("SLO", id),
            _ => AlertEndpoints.NotFoundProblem("SLO", id),
        };
}
