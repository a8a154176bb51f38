using System.Diagnostics.Metrics;
using System.Globalization;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;

namespace ContentMax.Alerting.Evaluation;

// Every EvaluationInterval (15 s), on the one replica that holds the lease:
// refresh SLO counts, judge every enabled rule (and the burn-rate rules of
// every SLO), step each alert's state machine, and write the new states, their
// history and the notifications to send in one transaction. AlertNotifier
// delivers those.
public sealed class AlertEvaluator(
    AlertingSeeder seeder,
    RuleStore ruleStore,
    EvaluationStore evaluationStore,
    SilenceStore silenceStore,
    HealthStatusStore healthStore,
    AlertSignals signals,
    SloTracker slos,
    EvaluatorLease lease,
    IOptionsMonitor<AlertingOptions> options,
    TimeProvider time,
    IMeterFactory meterFactory,
    ILogger<AlertEvaluator> logger,
    ErrorReporter? errors = null,
    BackgroundLoops? loops = null) : BackgroundService
{
    // Every window the burn-rate alerts compare (1h, 5m, 6h, 30m, 3d).
    private static readonly TimeSpan[] BurnWindows = BurnRate.AlertWindows.SelectMany(w => new[] { w.Long, w.Short }).Distinct().ToArray();

    // When each firing alert was last sent to the alertmanager-api receivers (this replica holds the lease).
    private readonly Dictionary<string, DateTimeOffset> _alertmanagerSent = new(StringComparer.Ordinal);

    private readonly Counter<long> _cycles = new AlertingMetrics(meterFactory).Evaluations;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CurrentValue.Enabled)
        {
            logger.LogWarning("Alerting is disabled (Alerting:Enabled=false): no rules are evaluated.");
            return;
        }

        // An invalid seed file stops the service here, naming the rule and field.
        _ = seeder.Seed;

        try
        {
            await BackgroundLoop.RunAsync("alert-evaluation", async cancellationToken =>
            {
                try
                {
                    await RunOnceAsync(cancellationToken);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // The database being away is the usual cause: give the lease up
                    // (another replica may take over) and try again after a backoff.
                    await lease.ReleaseAsync();
                    throw;
                }

                return options.CurrentValue.EvaluationInterval;
            }, logger, errors, time, stoppingToken, loops);
        }
        finally
        {
            await lease.ReleaseAsync();
        }
    }

    // One cycle; false when another replica holds the lease.
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        await seeder.EnsureWrittenAsync(cancellationToken);
        var connection = await lease.AcquireAsync(cancellationToken);
        if (connection is null) return false;

        using var activity = ContentMaxTelemetry.ActivitySource.StartActivity("alerts.evaluate");
        var settings = options.CurrentValue;
        var now = time.GetUtcNow();

        var rules = (await ruleStore.RulesAsync(cancellationToken)).Select(r => r.Rule).Where(r => r.Enabled).ToList();
        var sloList = (await ruleStore.SlosAsync(cancellationToken)).Where(s => s.Slo.Enabled).ToList();
        // Each SLO and each rule within its own time limit: one that is slow or
        // broken gets an error of its own (its burn rules carry it for an SLO)
        // and keeps its state, and the others are judged as usual.
        var burnRates = new Dictionary<string, Dictionary<TimeSpan, double>>(StringComparer.Ordinal);
        var sloErrors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (slo, _, definedAt) in sloList)
        {
            rules.AddRange(slo.BurnRules());
            var error = await WithinLimitAsync(settings.RuleTimeout, async limit =>
            {
                await slos.UpdateAsync(slo, definedAt, now, settings.SloLateness, limit);
                var counts = await slos.CountsAsync(slo.Id, now, BurnWindows, limit);
                burnRates[slo.Id] = counts.ToDictionary(c => c.Window, c => BurnRate.Rate(c.Good, c.Total, slo.ObjectiveFraction));
            }, cancellationToken);
            if (error is not null)
            {
                sloErrors[slo.Id] = $"SLO {slo.Id}: {error}";
                logger.LogWarning("SLO {Slo} was not counted this cycle: {Error}", slo.Id, error);
            }
        }

        var states = await evaluationStore.StatesAsync(cancellationToken);
        var silences = (await silenceStore.SilencesAsync(now, cancellationToken)).Where(s => s.IsActive(now)).ToList();
        // Health arrives as HealthStatusChanged messages, and also from the transitions the
        // health-probe writes to Postgres itself, so a broker outage still reaches the rules.
        await healthStore.ReconcileHealthAsync(cancellationToken);
        var health = await healthStore.HealthChecksAsync(cancellationToken);

        var results = new List<EvaluationResult>(rules.Count);
        var notifications = new List<QueuedNotification>();
        foreach (var rule in rules)
        {
            var previous = states.GetValueOrDefault(rule.Id)?.Status ?? AlertStatus.Initial;
            if (rule.Kind == RuleKinds.SloBurn && sloErrors.TryGetValue(rule.Slo!, out var sloError))
            {
                results.Add(new EvaluationResult(rule.Id, previous, previous, null, sloError));
                continue;
            }

            var (condition, value, ruleError) = await JudgeAsync(rule, now, health, burnRates, settings.RuleTimeout, cancellationToken);
            if (ruleError is not null)
            {
                // It keeps its state and shows the error; the others go on.
                results.Add(new EvaluationResult(rule.Id, previous, previous, null, ruleError));
                logger.LogWarning("Rule {Rule} was not evaluated this cycle: {Error}", rule.Id, ruleError);
                continue;
            }

            var labels = rule.AllLabels();
            var silenced = silences.Any(s => s.Matches(labels));
            var timing = new AlertTiming(rule.For, rule.KeepFiringFor, rule.RepeatInterval > TimeSpan.Zero ? rule.RepeatInterval : settings.RepeatInterval);
            var (next, notify) = AlertStateMachine.Next(previous, condition, now, timing, silenced);
            results.Add(new EvaluationResult(rule.Id, previous, next, value, null));

            if (notify is { } kind)
            {
                var snapshot = Snapshot(rule, next, kind, value, labels, now, settings);
                notifications.AddRange(settings.Receivers.Where(r => r.Accepts(rule, labels))
                    .Select(r => new QueuedNotification(rule.Id, r.Name, snapshot.Kind, snapshot)));
                if (kind != NotificationKind.Resolved) _alertmanagerSent[rule.Id] = now;
                else _alertmanagerSent.Remove(rule.Id);
            }
            else if (next.State == AlertState.Firing && !silenced
                && now - _alertmanagerSent.GetValueOrDefault(rule.Id, DateTimeOffset.MinValue) >= settings.AlertmanagerResendInterval
                && settings.Receivers.Where(r => r.Format == NotificationFormats.AlertmanagerApi && r.Accepts(rule, labels)).ToList() is { Count: > 0 } alertmanagers)
            {
                // Alertmanager forgets a firing alert it stops hearing about: it is told again every resend interval.
                var snapshot = Snapshot(rule, next, NotificationKind.Repeat, value, labels, now, settings);
                notifications.AddRange(alertmanagers.Select(r => new QueuedNotification(rule.Id, r.Name, snapshot.Kind, snapshot)));
                _alertmanagerSent[rule.Id] = now;
            }
        }

        await EvaluationStore.SaveEvaluationAsync(connection, lease.Holder, now, results, notifications, cancellationToken);
        _cycles.Add(1);
        activity?.SetTag("alerts.rules", results.Count);
        activity?.SetTag("alerts.firing", results.Count(r => r.Next.State == AlertState.Firing));
        foreach (var change in results.Where(r => r.Previous.State != r.Next.State))
        {
            logger.LogInformation("Alert {Rule} is now {State} (value {Value}).", change.RuleId, change.Next.State, change.Value);
        }

        return true;
    }

    // Whether one rule's condition holds now, and its value, within the rule
    // time limit; an error (and no value) when it could not be judged.
    private async Task<(bool Condition, double? Value, string? Error)> JudgeAsync(
        AlertRule rule, DateTimeOffset now, IReadOnlyList<HealthCheckStatus> health,
        IReadOnlyDictionary<string, Dictionary<TimeSpan, double>> burnRates, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var condition = false;
        double? value = null;
        var error = await WithinLimitAsync(timeout, async limit =>
        {
            (condition, value) = rule.Kind switch
            {
                RuleKinds.Health => HealthCondition(rule, health),
                RuleKinds.SloBurn => BurnCondition(rule, burnRates[rule.Slo!]),
                _ => await MetricConditionAsync(rule, now, limit),
            };
        }, cancellationToken);
        return error is null ? (condition, value, null) : (false, null, error);
    }

    // Judges a rule that is not stored (the admin API's preview) once, now, as
    // a cycle would, on any replica and without the lease: it reads the
    // metrics and the health last recorded, and writes nothing. Stored kinds
    // only (validation refuses slo_burn), so no SLO counts are needed.
    public async Task<(bool Condition, double? Value, string? Error)> PreviewAsync(AlertRule rule, CancellationToken cancellationToken)
    {
        var health = rule.Kind == RuleKinds.Health ? await healthStore.HealthChecksAsync(cancellationToken) : [];
        return await JudgeAsync(rule, time.GetUtcNow(), health, new Dictionary<string, Dictionary<TimeSpan, double>>(),
            options.CurrentValue.RuleTimeout, cancellationToken);
    }

    // Runs one rule's or SLO's work within its time limit. Null when it
    // succeeded, else why not; only the service stopping propagates.
    private static async Task<string?> WithinLimitAsync(TimeSpan limit, Func<CancellationToken, Task> work, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(limit);
        try
        {
            await work(timeout.Token);
            return null;
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception) when (timeout.IsCancellationRequested)
        {
            return $"timed out after {Duration.Format(limit)}";
        }
        catch (Exception ex)
        {
            var inner = ex is Npgsql.NpgsqlException { InnerException: { } cause } and not Npgsql.PostgresException ? cause : ex;
            return $"{inner.GetType().Name}: {inner.Message}";
        }
    }

    private async Task<(bool, double?)> MetricConditionAsync(AlertRule rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var value = await signals.ValueAsync(rule, now, cancellationToken);
        return (value is { } v && Comparisons.Holds(v, rule.Op, rule.Threshold), value);
    }

    // True while any matching check (by name, or every check of a group) is in
    // the rule's status; "degraded" also matches unhealthy checks. The value
    // is how many checks match.
    public static (bool, double?) HealthCondition(AlertRule rule, IReadOnlyList<HealthCheckStatus> checks)
    {
        var matching = checks.Where(c => c.Check == rule.Check || c.Group == rule.Check)
            .Count(c => c.Status == rule.HealthStatus || (rule.HealthStatus == "degraded" && c.Status == "unhealthy"));
        return (matching > 0, matching);
    }

    // Fires only while both windows of the pair burn faster than the rate; the
    // value is the slower of the two.
    public static (bool, double?) BurnCondition(AlertRule rule, IReadOnlyDictionary<TimeSpan, double> rates)
    {
        var window = BurnRate.AlertWindows.Single(w => w.Long == rule.Window);
        var longRate = rates[window.Long];
        var shortRate = rates[window.Short];
        return (BurnRate.Fires(window, longRate, shortRate), Math.Min(longRate, shortRate));
    }

    private static AlertSnapshot Snapshot(AlertRule rule, AlertStatus status, NotificationKind kind, double? value,
        Dictionary<string, string> labels, DateTimeOffset now, AlertingOptions settings) => new()
    {
        RuleId = rule.Id,
        Name = rule.Name,
        Severity = rule.Severity,
        Kind = kind.ToString().ToLowerInvariant(),
        Summary = rule.Summary,
        Value = value,
        Condition = Describe(rule),
        Labels = labels,
        StartsAt = status.ActiveSince ?? now,
        EndsAt = kind == NotificationKind.Resolved ? now : null,
        RunbookUrl = settings.RunbookUrl(rule.Runbook),
        DashboardUrl = settings.DashboardUrl is null ? "" : settings.DashboardUrl.TrimEnd('/') + "/?tab=alerts",
    };

    // A one-line statement of what the rule checks, for notifications and the dashboard.
    public static string Describe(AlertRule rule)
    {
        var threshold = rule.Threshold.ToString("G", CultureInfo.InvariantCulture);
        var window = Duration.Format(rule.Window);
        return rule.Kind switch
        {
            RuleKinds.Threshold => $"{rule.Aggregate}({Describe(rule.Select!)}) over {window} {rule.Op} {threshold}",
            RuleKinds.Rate => $"count({Describe(rule.Select!)}) per {Duration.Format(rule.Per)} over {window} {rule.Op} {threshold}",
            RuleKinds.Ratio => $"count({Describe(rule.Numerator!)}) / count({Describe(rule.Denominator!)}) over {window} {rule.Op} {threshold}",
            RuleKinds.Health => $"health check {rule.Check} is {rule.HealthStatus}" + (rule.For > TimeSpan.Zero ? $" for {Duration.Format(rule.For)}" : ""),
            RuleKinds.SloBurn => $"error budget burn rate of SLO {rule.Slo} over {window} and {Duration.Format(BurnRate.AlertWindows.Single(w => w.Long == rule.Window).Short)} > {threshold}x",
            _ => rule.Kind,
        };
    }

    private static string Describe(MetricSelector selector)
    {
        var parts = new List<string>();
        parts.AddRange((selector.Tags ?? []).Select(t => $"{t.Key}=\"{t.Value}\""));
        parts.AddRange((selector.Where ?? []).Select(w => $"{w.Tag ?? "value"}{w.Op}{w.Value.ToString("G", CultureInfo.InvariantCulture)}"));
        return parts.Count == 0 ? selector.Metric : $"{selector.Metric}{{{string.Join(",", parts)}}}";
    }
}
