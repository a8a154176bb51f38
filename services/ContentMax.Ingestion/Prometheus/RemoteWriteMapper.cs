using ContentMax.Contracts;
using ContentMax.Ingestion.Prometheus.Proto;
using ContentMax.Ingestion.Protocols;

namespace ContentMax.Ingestion.Prometheus;

// Turns a Prometheus remote write 1.0 request into MetricPoints, one per sample:
//   - the metric is the __name__ label; every other label not starting with
//     "__" is a tag (within MetricRules' limits; the rest dropped and counted);
//   - counters (PrometheusFamilies.IsCounter) become cumulative points whose
//     series is a hash of all labels, with an unknown start time: storage takes
//     a series' first sample as its baseline and stores the increases after it,
//     a drop counting as a restart;
//   - everything else becomes plain points;
//   - NaN samples (stale markers among them) and infinities are skipped and
//     counted; samples breaking MetricRules (too old, a bad name) are rejected
//     and counted, and the rest of the request is kept.
public static class RemoteWriteMapper
{
    public const string NameLabel = "__name__";

    // Prometheus' stale marker: a NaN with this exact bit pattern.
    private const long StaleMarkerBits = 0x7ff0000000000002;

    public static List<MetricPoint> Map(WriteRequest request, PrometheusFamilies families, DateTimeOffset now, MappingReport report)
    {
        // Metadata first: a request may carry both, and its types then apply at once.
        foreach (var metadata in request.Metadata) families.Remember(metadata.MetricFamilyName, metadata.Type);

        var points = new List<MetricPoint>();
        var identity = new SeriesIdentity();
        foreach (var series in request.Timeseries)
        {
            MapSeries(series, families, now, report, points, identity);
        }

        return points;
    }

    private static void MapSeries(TimeSeries series, PrometheusFamilies families, DateTimeOffset now, MappingReport report,
        List<MetricPoint> points, SeriesIdentity identity)
    {
        if (series.Samples.Count == 0) return;

        var labels = series.Labels.OrderBy(l => l.Name, StringComparer.Ordinal).ToArray();
        var name = labels.FirstOrDefault(l => l.Name == NameLabel)?.Value;
        if (string.IsNullOrEmpty(name))
        {
            report.Reject("missing_name", "a series has no __name__ label", series.Samples.Count);
            return;
        }

        if (MetricRules.CheckName(name) is { } nameProblem)
        {
            report.Reject("invalid_name", $"metric '{Shorten(name)}': the name {nameProblem}", series.Samples.Count);
            return;
        }

        var tags = new BoundedTags();
        foreach (var label in labels)
        {
            if (!label.Name.StartsWith("__", StringComparison.Ordinal)) tags.TryAdd(label.Name, label.Value);
        }

        Guid? counterSeries = null;
        if (families.IsCounter(name))
        {
            identity.Reset().AddString("prometheus").AddInt64(labels.Length);
            foreach (var label in labels) identity.AddString(label.Name).AddString(label.Value);
            counterSeries = identity.ToGuid();
        }

        // One tag dictionary for all the series' points: nothing changes it after this.
        var seriesTags = tags.ToTags();
        var accepted = 0;
        foreach (var sample in series.Samples)
        {
            if (double.IsNaN(sample.Value))
            {
                report.Skip(BitConverter.DoubleToInt64Bits(sample.Value) == StaleMarkerBits ? "stale_marker" : "nan");
                continue;
            }

            if (double.IsInfinity(sample.Value))
            {
                report.Skip("infinite");
                continue;
            }

            if (MetricRules.CheckTimestamp(sample.Timestamp, now) is { } timeProblem)
            {
                report.Reject("timestamp_out_of_range", $"metric '{Shorten(name)}': timestamp {timeProblem}");
                continue;
            }

            points.Add(new MetricPoint
            {
                Id = Guid.CreateVersion7(),
                Metric = name,
                Value = sample.Value,
                Timestamp = sample.Timestamp,
                Tags = seriesTags,
                Cumulative = counterSeries is { } id ? new CumulativeSeries { Series = id, StartTime = 0 } : null,
            });
            accepted++;
        }

        report.DropTags(tags.Dropped, accepted);
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
