using System.Diagnostics.Metrics;
using ContentMax.ServiceDefaults;

namespace ContentMax.Aggregation;

// The aggregation service's instruments and their names, on the ContentMax
// meter (made through IMeterFactory, exported by ServiceDefaults); alerting's
// are in AlertingMetrics.
public sealed class AggregationMetrics
{
    public const string DatadogPointsForwardedName = "contentmax.datadog.points_forwarded";
    public const string DatadogPointsSkippedName = "contentmax.datadog.points_skipped";
    public const string DatadogRequestFailuresName = "contentmax.datadog.request_failures";
    public const string WritePointsName = "contentmax.aggregation.write_points";
    public const string WriteMessagesName = "contentmax.aggregation.write_messages";
    public const string SkippedName = "contentmax.aggregation.skipped";
    public const string QueryCacheName = "contentmax.aggregation.query_cache";

    public AggregationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ContentMaxTelemetry.MeterName);
        DatadogPointsForwarded = meter.CreateCounter<long>(DatadogPointsForwardedName, "{point}");
        DatadogPointsSkipped = meter.CreateCounter<long>(DatadogPointsSkippedName, "{point}", "Points outside Datadog's accepted time window");
        DatadogRequestFailures = meter.CreateCounter<long>(DatadogRequestFailuresName, "{request}");
        WritePoints = meter.CreateHistogram<int>(WritePointsName, "{metric}", "Metrics stored per storage write");
        WriteMessages = meter.CreateHistogram<int>(WriteMessagesName, "{message}", "Broker messages combined per storage write");
        Skipped = meter.CreateCounter<long>(SkippedName, "{item}", "Redelivered messages, repeated client ids and repeated cumulative points that stored nothing");
        QueryCacheLookups = meter.CreateCounter<long>(QueryCacheName, "{lookup}", "Query cache lookups by result");
    }

    public Counter<long> DatadogPointsForwarded { get; }
    public Counter<long> DatadogPointsSkipped { get; }

    // Tagged status: the HTTP status, or "unreachable".
    public Counter<long> DatadogRequestFailures { get; }

    public Histogram<int> WritePoints { get; }
    public Histogram<int> WriteMessages { get; }

    // Tagged reason: redelivered_message, duplicate_id or repeated_cumulative_point.
    public Counter<long> Skipped { get; }

    // Tagged result: hit, miss or unavailable.
    public Counter<long> QueryCacheLookups { get; }
}
