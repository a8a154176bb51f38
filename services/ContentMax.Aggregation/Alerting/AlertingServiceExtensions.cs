namespace ContentMax.Aggregation.Alerting;

public static class AlertingServiceExtensions
{
    // Alert rules, SLOs, the evaluator (one replica at a time) and webhook notifications.
    public static IHostApplicationBuilder AddAlerting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertingOptions>()
            .BindConfiguration(AlertingOptions.SectionName)
            .ValidateDataAnnotations()
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
