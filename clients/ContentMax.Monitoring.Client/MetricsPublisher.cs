using ContentMax.Monitoring.Client.Aggregation;

namespace ContentMax.Monitoring.Client;

// IMetricsPublisher over the aggregator; with the client disabled, every call
// returns at once.
internal sealed class MetricsPublisher(MetricAggregator aggregator, ContentMaxMonitoringOptions options) : IMetricsPublisher
{
    private readonly bool _enabled = options.Enabled;

    public void Track(string name, double value, IReadOnlyDictionary<string, string>? tags = null)
    {
        if (_enabled) aggregator.Record(SeriesKey.From(name ?? "", tags), value);
    }

    public void Track(string name, double value, params ReadOnlySpan<(string Key, string Value)> tags)
    {
        if (_enabled) aggregator.Record(SeriesKey.From(name ?? "", tags), value);
    }

    public void TrackMany(string name, double value, long count, IReadOnlyDictionary<string, string>? tags = null)
    {
        if (_enabled) aggregator.Record(SeriesKey.From(name ?? "", tags), value, count);
    }

    public void Gauge(string name, double value, IReadOnlyDictionary<string, string>? tags = null)
    {
        if (_enabled) aggregator.Record(SeriesKey.From(name ?? "", tags), value, kind: SeriesKind.Gauge);
    }
}
