using System.Diagnostics.Metrics;
using ContentMax.ServiceDefaults;

namespace ContentMax.Alerting;

// Alerting's instruments and their names, on the ContentMax meter (made through
// IMeterFactory, exported by ServiceDefaults).
public sealed class AlertingMetrics
{
    public const string EvaluationsName = "contentmax.alerts.evaluations";
    public const string NotificationsName = "contentmax.alerts.notifications";

    public AlertingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ContentMaxTelemetry.MeterName);
        Evaluations = meter.CreateCounter<long>(EvaluationsName, description: "Alert evaluation cycles run by this replica.");
        Notifications = meter.CreateCounter<long>(NotificationsName, description: "Alert notification delivery attempts, by receiver and result.");
    }

    public Counter<long> Evaluations { get; }

    // Tagged receiver and result (delivered, failed).
    public Counter<long> Notifications { get; }
}
