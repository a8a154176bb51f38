using System.Diagnostics.Metrics;
using ContentMax.Ingestion.Protocols;
using ContentMax.ServiceDefaults;

namespace ContentMax.Ingestion;

// The ingestion service's instruments and their names, on the ContentMax meter
// (made through IMeterFactory, exported by ServiceDefaults). One per service.
public sealed class IngestionMetrics
{
    public const string MetricsPublishedName = "contentmax.ingestion.metrics_published";
    public const string MessagesPublishedName = "contentmax.ingestion.messages_published";
    public const string MetricsRejectedName = "contentmax.ingestion.metrics_rejected";
    public const string MessageSizeName = "contentmax.ingestion.message_size";

    public IngestionMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ContentMaxTelemetry.MeterName);
        MetricsPublished = meter.CreateCounter<long>(MetricsPublishedName, "{metric}", "Metrics confirmed by the broker");
        MessagesPublished = meter.CreateCounter<long>(MessagesPublishedName, "{message}", "Broker messages confirmed");
        MetricsRejected = meter.CreateCounter<long>(MetricsRejectedName, "{metric}", "Metrics answered 503 (overload or broker unavailable)");
        MessageSize = meter.CreateHistogram<int>(MessageSizeName, "{metric}", "Metrics carried per broker message");
        Otlp = new ProtocolCounters(meter, "otlp", "points", "{data_point}", "attributes", "{attribute}");
        Prometheus = new ProtocolCounters(meter, "prometheus", "samples", "{sample}", "labels", "{label}");
    }

    public Counter<long> MetricsPublished { get; }
    public Counter<long> MessagesPublished { get; }

    // Tagged reason: overloaded, broker_unavailable, unroutable (no queue bound).
    public Counter<long> MetricsRejected { get; }
    public Histogram<int> MessageSize { get; }

    // contentmax.ingestion.{otlp|prometheus}.rejected_*, .skipped_* and .dropped_*.
    public ProtocolCounters Otlp { get; }
    public ProtocolCounters Prometheus { get; }
}
