namespace ContentMax.Aggregation.Alerting;

public static class AlertingServiceExtensions
{
    // Alert rules, SLOs, the evaluator (one replica at a time) and webhook notifications.
    public static IHostApplicationBuilder AddAlerting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertingOptions>()
            .BindConfiguration(AlertingOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Receivers.All(r => r.Format != NotificationFormats.LegacyAlertmanager),
                "Alerting:Receivers Format 'alertmanager' is now 'alertmanager-webhook' (the body Alertmanager sends to webhooks, for tools " +
                "that accept those) or 'alertmanager-api' (delivers into an Alertmanager: Url is its base, such as http://alertmanager:9093).")
            .Validate(o => o.Receivers.All(r => NotificationFormats.All.Contains(r.Format)),
                $"Every Alerting:Receivers entry needs Format {string.Join(", ", NotificationFormats.All)}.")
            .Validate(o => o.Receivers.All(r => Uri.TryCreate(r.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"),
                "Every Alerting:Receivers entry needs an absolute http(s) Url.")
            .Validate(o => o.Receivers.All(r => Severities.All.Contains(r.MinSeverity)),
                $"Alerting:Receivers MinSeverity must be one of {string.Join(", ", Severities.All)}.")
            .Validate(o => o.Receivers.Select(r => r.Name).Distinct().Count() == o.Receivers.Count,
                "Alerting:Receivers names must be unique.")
            .ValidateOnStart();

        builder.Services.AddSingleton<AlertStore>();
        builder.Services.AddSingleton<AlertAudit>();
        builder.Services.AddSingleton<AlertSignals>();
        builder.Services.AddSingleton<SloTracker>();
        builder.Services.AddSingleton<EvaluatorLease>();
        builder.Services.AddSingleton<AlertingSeeder>();
        builder.Services.AddSingleton<AlertEvaluator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        builder.Services.AddHostedService<AlertNotifier>();
        return builder;
    }
}
