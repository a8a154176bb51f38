namespace ContentMax.Alerting;

public static class AlertingServiceExtensions
{
    // Alert rules, SLOs, the evaluator (one replica at a time), webhook
    // notifications and the retention of alerting's tables. The host provides
    // the metric reads rules are judged by (TSignals).
    public static IHostApplicationBuilder AddAlerting<TSignals>(this IHostApplicationBuilder builder)
        where TSignals : class, IMetricSignals
    {
        builder.Services.AddOptions<AlertingOptions>()
            .BindConfiguration(AlertingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<RuleStore>();
        builder.Services.AddSingleton<EvaluationStore>();
        builder.Services.AddSingleton<SilenceStore>();
        builder.Services.AddSingleton<HealthStatusStore>();
        builder.Services.AddSingleton<NotificationStore>();
        builder.Services.AddSingleton<AlertAudit>();
        builder.Services.AddSingleton<IMetricSignals, TSignals>();
        builder.Services.AddSingleton<AlertSignals>();
        builder.Services.AddSingleton<SloTracker>();
        builder.Services.AddSingleton<EvaluatorLease>();
        builder.Services.AddSingleton<AlertingSeeder>();
        builder.Services.AddSingleton<AlertEvaluator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        builder.Services.AddHostedService<AlertNotifier>();
        builder.Services.AddHostedService<AlertRetention>();
        return builder;
    }

    // /api/alerts and /api/slos.
    public static IEndpointRouteBuilder MapAlerting(this IEndpointRouteBuilder app) => app.MapAlerts().MapSlos();
}
