using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using ContentMax.Contracts;

namespace ContentMax.Ingestion.Protocols;

// What a protocol mapper (OTLP, Prometheus remote write) left out of one
// request, by reason:
//   - rejected: points that break MetricRules or the protocol's own rules; the
//     sender is told (OTLP partial success) and they are never stored;
//   - skipped: points that carry nothing to store (no recorded value, an empty
//     histogram, a NaN or stale marker); not an error;
//   - dropped tags: attributes or labels over MetricRules' tag limits; the point
//     is kept without them.
public sealed class MappingReport
{
    private const int MaxExamples = 3;

    public Dictionary<string, long> Rejected { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Skipped { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> DroppedTags { get; } = new(StringComparer.Ordinal);

    // The first few rejections, spelled out for the sender.
    public List<string> Examples { get; } = [];

    public long RejectedCount => Rejected.Values.Sum();

    public long SkippedCount => Skipped.Values.Sum();

    public long DroppedTagCount => DroppedTags.Values.Sum();

    public void Reject(string reason, string detail, long count = 1)
    {
        if (count <= 0) return;
        Add(Rejected, reason, count);
        if (Examples.Count < MaxExamples) Examples.Add(detail);
    }

    public void Skip(string reason, long count = 1)
    {
        if (count > 0) Add(Skipped, reason, count);
    }

    public void DropTags(IReadOnlyList<string> reasons, long times = 1)
    {
        if (times <= 0) return;
        foreach (var reason in reasons) Add(DroppedTags, reason, times);
    }

    // One line for the sender: counts by reason, then examples.
    public string Describe(string pointNoun, string tagNoun)
    {
        var text = new StringBuilder();
        if (Rejected.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{RejectedCount} {pointNoun} rejected (");
            text.AppendJoin(", ", Rejected.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}: {r.Value}")));
            text.Append(')');
            if (Examples.Count > 0) text.Append(", e.g. ").AppendJoin("; ", Examples);
            text.Append('.');
        }

        if (DroppedTags.Count > 0)
        {
            if (text.Length > 0) text.Append(' ');
            text.Append(CultureInfo.InvariantCulture, $"{DroppedTagCount} {tagNoun} dropped, their points kept (");
            text.AppendJoin(", ", DroppedTags.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}: {r.Value}")));
            text.Append(CultureInfo.InvariantCulture,
                $"); at most {MetricRules.MaxTags} tags per point, keys of 1-{MetricRules.MaxTagKeyLength} and values of at most {MetricRules.MaxTagValueLength} characters, no control characters.");
        }

        return text.ToString();
    }

    private static void Add(Dictionary<string, long> counts, string reason, long count) =>
        counts[reason] = counts.GetValueOrDefault(reason) + count;
}

// The counters a protocol reports its MappingReports to (one per protocol, in
// IngestionMetrics): contentmax.ingestion.{protocol}.rejected_{unit},
// .skipped_{unit} and .dropped_{tag unit}, each with a "reason" tag.
public sealed class ProtocolCounters
{

    private readonly Counter<long> _rejected;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _dropped;

    internal ProtocolCounters(Meter meter, string protocol, string points, string pointUnit, string tags, string tagUnit)
    {
        _rejected = meter.CreateCounter<long>($"contentmax.ingestion.{protocol}.rejected_{points}", pointUnit,
            "Points rejected as invalid and never stored, by reason");
        _skipped = meter.CreateCounter<long>($"contentmax.ingestion.{protocol}.skipped_{points}", pointUnit,
            "Points that carried nothing to store (no recorded value, empty, NaN or stale), by reason");
        _dropped = meter.CreateCounter<long>($"contentmax.ingestion.{protocol}.dropped_{tags}", tagUnit,
            "Tags dropped for breaking the tag limits (the points were kept), by reason");
    }

    public void Record(MappingReport report)
    {
        foreach (var (reason, count) in report.Rejected) _rejected.Add(count, new KeyValuePair<string, object?>("reason", reason));
        foreach (var (reason, count) in report.Skipped) _skipped.Add(count, new KeyValuePair<string, object?>("reason", reason));
        foreach (var (reason, count) in report.DroppedTags) _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }
}
