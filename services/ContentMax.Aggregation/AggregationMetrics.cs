using System.Diagnostics.Metrics;
using ContentMax.ServiceDefaults;

namespace ContentMax.Aggregation;

// The aggregation service's instruments and their names, on the ContentMax
// meter (made through IMeterFactory, exported by ServiceDefaults). Still
// defining their own: GroupCommit, QueryCache and AlertEvaluator.
public sealed class AggregationMetrics
{
    public const string DatadogPointsForwardedName = "contentmax.datadog.points_forwarded";
    public const string DatadogPointsSkippedName = "contentmax.datadog.points_skipped";
    public const string DatadogRequestFailuresName = "contentmax.datadog.request_failures";
    public const string AlertNotificationsName = "contentmax.alerts.notifications";

    public AggregationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ContentMaxTelemetry.MeterName);
        DatadogPointsForwarded = meter.CreateCounter<long>(DatadogPointsForwardedName, "{point}");
        DatadogPointsSkipped = meter.CreateCounter<long>(DatadogPointsSkippedName, "{point}", "Points outside Datadog's accepted time window");
        DatadogRequestFailures = meter.CreateCounter<long>(DatadogRequestFailuresName, "{request}");
        AlertNotifications = meter.CreateCounter<long>(AlertNotificationsName, description: "Alert notification delivery attempts, by receiver and result.");
    }

    public Counter<long> DatadogPointsForwarded { get; }
    public Counter<long> DatadogPointsSkipped { get; }

    // Tagged status: the HTTP status, or "unreachable".
    public Counter<long> DatadogRequestFailures { get; }

    // Tagged receiver and result (delivered, failed).
    public Counter<long> AlertNotifications { get; }
}
