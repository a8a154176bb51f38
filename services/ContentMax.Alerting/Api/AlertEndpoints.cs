using System.Text.Json;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ContentMax.Alerting.Api;

// /api/alerts: alert states (firing first), their history, rules, silences,
// notification deliveries and the audit of admin changes. Reading needs the
// read key; changing rules and silences, and previewing a rule, needs the
// admin key. Every change is audited under the calling key's name.
public static class AlertEndpoints
{
    public const int MaxHistory = 1000;

    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/alerts").WithTags("Alerts").RequireAuthorization(ApiRoles.Read);
        read.MapGet("/", GetAlertsAsync).WithSummary("Every alert rule with its state, firing and pending first.");
        read.MapGet("/history", GetHistoryAsync).WithSummary("State changes, newest first.");
        read.MapGet("/rules", GetRulesAsync).WithSummary("The rule definitions.");
        read.MapGet("/rules/{id}", GetRuleAsync).WithSummary("One rule definition.");
        read.MapGet("/silences", GetSilencesAsync).WithSummary("Silences that are active, pending, or ended in the last day.");
        read.MapGet("/notifications", GetNotificationsAsync).WithSummary("Webhook deliveries, newest first, with their failures.");
        read.MapGet("/audit", GetAuditAsync).WithSummary("Changes made through the admin API (rules, silences, SLOs), newest first, with the key that made each.");

        var admin = app.MapGroup("/api/alerts").WithTags("Alerts").RequireAuthorization(ApiRoles.Admin);
        admin.MapPut("/rules/{id}", PutRuleAsync).WithSummary("Create or replace a rule.");
        admin.MapPost("/rules/preview", PreviewRuleAsync).WithSummary("Validate a rule as PUT does and judge it once against current data, storing nothing.");
        admin.MapDelete("/rules/{id}", DeleteRuleAsync).WithSummary("Delete a rule created through the API.");
        admin.MapPost("/silences", PostSilenceAsync).WithSummary("Silence alerts whose labels match, for a while.");
        admin.MapDelete("/silences/{id}", DeleteSilenceAsync).WithSummary("End a silence now.");
        return app;
    }

    private static readonly string[] StateOrder = ["firing", "pending", "resolved", "inactive", "disabled"];

    internal static async Task<Ok<AlertsResponse>> GetAlertsAsync(
        RuleStore ruleStore, EvaluationStore evaluationStore, SilenceStore silenceStore, IOptionsMonitor<AlertingOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var rules = (await ruleStore.RulesAsync(cancellationToken)).Select(r => r.Rule)
            .Concat((await ruleStore.SlosAsync(cancellationToken)).SelectMany(s => s.Slo.BurnRules()));
        var states = await evaluationStore.StatesAsync(cancellationToken);
        var silences = (await silenceStore.SilencesAsync(now, cancellationToken)).Where(s => s.IsActive(now)).ToList();

        var alerts = rules.Select(rule =>
        {
            var stored = states.GetValueOrDefault(rule.Id);
            var state = !rule.Enabled ? "disabled" : (stored?.Status.State ?? AlertState.Inactive).ToString().ToLowerInvariant();
            var labels = rule.AllLabels();
            return new AlertView(rule.Id, rule.Name, rule.Kind, rule.Severity, state, rule.Enabled, silences.Any(s => s.Matches(labels)),
                stored?.Value, AlertEvaluator.Describe(rule), rule.Summary, labels,
                stored?.Status.State is AlertState.Pending or AlertState.Firing ? stored.Status.ActiveSince : null,
                stored?.EvaluatedAt, stored?.Error, options.CurrentValue.RunbookUrl(rule.Runbook), rule.Slo);
        })
        .OrderBy(a => Array.IndexOf(StateOrder, a.State))
        .ThenByDescending(a => Severities.Rank(a.Severity))
        .ThenBy(a => a.Id, StringComparer.Ordinal)
        .ToList();

        return TypedResults.Ok(new AlertsResponse(await evaluationStore.EvaluatorAsync(cancellationToken), alerts));
    }

    internal static async Task<Results<Ok<List<AlertHistoryEntry>>, ValidationProblem>> GetHistoryAsync(
        EvaluationStore store, CancellationToken cancellationToken, string? rule = null, int? limit = null)
    {
        if (limit is < 1 or > MaxHistory) return Invalid(new() { ["limit"] = [$"must be between 1 and {MaxHistory}"] });
        return TypedResults.Ok(await store.HistoryAsync(rule, limit ?? 100, cancellationToken));
    }

    internal static async Task<Ok<List<StoredRule>>> GetRulesAsync(RuleStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.RulesAsync(cancellationToken));

    internal static async Task<Results<Ok<StoredRule>, ProblemHttpResult>> GetRuleAsync(string id, RuleStore store, CancellationToken cancellationToken) =>
        await store.RuleAsync(id, cancellationToken) is { } rule ? TypedResults.Ok(rule) : NotFoundProblem("rule", id);

    internal static async Task<Results<Created<AlertRule>, Ok<AlertRule>, ValidationProblem>> PutRuleAsync(
        string id, HttpRequest request, RuleStore store, CancellationToken cancellationToken)
    {
        var (rule, errors) = await ReadRuleAsync(request, id, cancellationToken);
        if (rule is null) return Invalid(errors);

        return await store.PutRuleAsync(rule, AlertAudit.Actor(request.HttpContext.User), cancellationToken)
            ? TypedResults.Created($"/api/alerts/rules/{id}", rule)
            : TypedResults.Ok(rule);
    }

    // The id a previewed rule gets when its body has none.
    public const string PreviewId = "preview";

    // The PUT body, checked exactly as PUT checks it, then judged once the way
    // the evaluator judges it; nothing is stored and no state changes.
    internal static async Task<Results<Ok<RulePreview>, ValidationProblem>> PreviewRuleAsync(
        HttpRequest request, AlertEvaluator evaluator, CancellationToken cancellationToken)
    {
        var (rule, errors) = await ReadRuleAsync(request, null, cancellationToken);
        if (rule is null) return Invalid(errors);

        var (condition, value, error) = await evaluator.PreviewAsync(rule, cancellationToken);
        return TypedResults.Ok(new RulePreview(value, condition && error is null, AlertEvaluator.Describe(rule), error));
    }

    // Reads and validates a rule body; without an id in the URL (a preview) an
    // id left out of the body is PreviewId.
    private static async Task<(AlertRule? Rule, Dictionary<string, string[]> Errors)> ReadRuleAsync(
        HttpRequest request, string? urlId, CancellationToken cancellationToken)
    {
        var (rule, errors) = await ReadBodyAsync<AlertRule>(request, cancellationToken);
        if (rule is null) return (null, errors);
        if (rule.Id.Length == 0) rule = rule with { Id = urlId ?? PreviewId };
        errors = AlertingValidation.Check(rule);
        if (urlId is not null && rule.Id != urlId) errors["id"] = ["must match the id in the URL"];
        return errors.Count > 0 ? (null, errors) : (rule, errors);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteRuleAsync(
        string id, HttpRequest request, RuleStore store, CancellationToken cancellationToken) =>
        await store.DeleteRuleAsync(id, AlertAudit.Actor(request.HttpContext.User), cancellationToken) switch
        {
            DeleteOutcome.Deleted => TypedResults.NoContent(),
            DeleteOutcome.Seeded => SeededConflict("rule", id),
            _ => NotFoundProblem("rule", id),
        };

    internal static async Task<Ok<List<SilenceView>>> GetSilencesAsync(SilenceStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var silences = await store.SilencesAsync(now - TimeSpan.FromDays(1), cancellationToken);
        return TypedResults.Ok(silences.Select(s => View(s, now)).ToList());
    }

    internal static async Task<Results<Created<SilenceView>, ValidationProblem>> PostSilenceAsync(
        HttpRequest request, SilenceStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, errors) = await ReadBodyAsync<SilenceRequest>(request, cancellationToken);
        if (body is null) return Invalid(errors);
        var now = time.GetUtcNow();
        errors = body.Check(now);
        if (errors.Count > 0) return Invalid(errors);

        var silence = new Silence(Guid.CreateVersion7(), body.Matchers!, body.StartsAt ?? now, body.End(now)!.Value, body.Comment!.Trim(),
            AlertAudit.Actor(request.HttpContext.User), now);
        await store.AddSilenceAsync(silence, cancellationToken);
        return TypedResults.Created($"/api/alerts/silences/{silence.Id}", View(silence, now));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteSilenceAsync(
        Guid id, HttpRequest request, SilenceStore store, TimeProvider time, CancellationToken cancellationToken) =>
        await store.ExpireSilenceAsync(id, time.GetUtcNow(), AlertAudit.Actor(request.HttpContext.User), cancellationToken)
            ? TypedResults.NoContent()
            : NotFoundProblem("running silence", id.ToString());

    internal static async Task<Results<Ok<List<NotificationRecord>>, ValidationProblem>> GetNotificationsAsync(
        NotificationStore store, CancellationToken cancellationToken, string? rule = null, int? limit = null)
    {
        if (limit is < 1 or > MaxHistory) return Invalid(new() { ["limit"] = [$"must be between 1 and {MaxHistory}"] });
        return TypedResults.Ok(await store.NotificationsAsync(rule, limit ?? 100, cancellationToken));
    }

    internal static async Task<Results<Ok<List<AuditEntry>>, ValidationProblem>> GetAuditAsync(
        AlertAudit audit, CancellationToken cancellationToken, int? limit = null)
    {
        if (limit is < 1 or > MaxHistory) return Invalid(new() { ["limit"] = [$"must be between 1 and {MaxHistory}"] });
        return TypedResults.Ok(await audit.ReadAsync(limit ?? 50, cancellationToken));
    }

    private static SilenceView View(Silence s, DateTimeOffset now) =>
        new(s.Id, s.Matchers, s.StartsAt, s.EndsAt, s.Comment, s.CreatedBy, s.CreatedAt, s.State(now));

    // Reads a JSON body in the alerting shape; a body that does not parse is a
    // validation problem naming the field, never a 500.
    internal static async Task<(T? Value, Dictionary<string, string[]> Errors)> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, new() { ["body"] = ["must be JSON (Content-Type: application/json)"] });
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, AlertingJson.Options, cancellationToken);
            return value is null ? (null, new() { ["body"] = ["must be a JSON object"] }) : (value, []);
        }
        catch (JsonException ex)
        {
            return (null, new() { [AlertingJson.FieldOf(ex)] = [AlertingJson.Describe(ex)] });
        }
    }

    internal static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is not valid.");

    internal static ProblemHttpResult NotFoundProblem(string what, string id) =>
        TypedResults.Problem(statusCode: 404, title: $"No such {what}.", detail: $"There is no {what} '{Truncate(id)}'.");

    internal static ProblemHttpResult SeededConflict(string what, string id) =>
        TypedResults.Problem(statusCode: 409, title: $"This {what} comes from the seed file.",
            detail: $"The {what} '{Truncate(id)}' is defined in the alerting seed file: disable it with PUT (enabled: false), or remove it from the file.");

    private static string Truncate(string id) => id.Length <= 64 ? id : id[..64] + "…";
}
