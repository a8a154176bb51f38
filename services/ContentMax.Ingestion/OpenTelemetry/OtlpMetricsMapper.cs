using ContentMax.Contracts;
using ContentMax.Ingestion.OpenTelemetry.Proto.Collector.Metrics.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Common.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Metrics.V1;
using ContentMax.Ingestion.Protocols;
using Google.Protobuf.Collections;

namespace ContentMax.Ingestion.OpenTelemetry;

// Longer than our usual 300 lines: one mapping per OTLP metric kind (the table
// below), sharing the resource, scope and attribute handling.
//
// Turns an OTLP metrics export into MetricPoints, one per data point:
//
//   Gauge                               plain point (as_double or as_int)
//   Sum, monotonic, CUMULATIVE          cumulative point: storage turns running totals into deltas
//   Sum, monotonic, DELTA               plain point holding the delta
//   Sum, not monotonic (up-down)        plain point holding the value as sent (the current value when CUMULATIVE)
//   Histogram                           Distribution with the explicit buckets, Value = sum; cumulative when CUMULATIVE
//   ExponentialHistogram                the same, its buckets converted to explicit bounds (ExponentialBuckets)
//   Summary                             Distribution without buckets (count and sum), always cumulative; quantiles dropped
//
// Tags: the resource's service.name as "service" and service.namespace as
// "service.namespace", then the point's attributes in key order, within
// MetricRules' tag limits (the rest dropped and counted, the point kept).
// A cumulative point's series is a hash of the metric name, every resource
// attribute, the scope name and every point attribute (SeriesIdentity).
//
// Data points flagged NO_RECORDED_VALUE and histograms without observations
// are skipped. A data point that breaks MetricRules or OTLP's own rules is
// rejected with a reason; the others in the request are kept.
public sealed class OtlpMetricsMapper
{
    public const string ServiceTag = "service";
    public const string ServiceNamespaceTag = "service.namespace";
    private const string ServiceNameAttribute = "service.name";
    private const string ServiceNamespaceAttribute = "service.namespace";
    private const uint NoRecordedValue = (uint)DataPointFlags.NoRecordedValueMask;

    private readonly DateTimeOffset _now;
    private readonly MappingReport _report;
    private readonly List<MetricPoint> _points = [];
    private readonly SeriesIdentity _identity = new();

    // The resource and scope the current metrics belong to.
    private byte[] _resource = [];
    private string? _service;
    private string? _serviceNamespace;
    private string _scope = "";

    private OtlpMetricsMapper(DateTimeOffset now, MappingReport report)
    {
        _now = now;
        _report = report;
    }

    public static List<MetricPoint> Map(ExportMetricsServiceRequest request, DateTimeOffset now, MappingReport report)
    {
        var mapper = new OtlpMetricsMapper(now, report);
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            mapper.EnterResource(resourceMetrics.Resource?.Attributes);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                mapper._scope = scopeMetrics.Scope?.Name ?? "";
                foreach (var metric in scopeMetrics.Metrics) mapper.MapMetric(metric);
            }
        }

        return mapper._points;
    }

    private void EnterResource(RepeatedField<KeyValue>? attributes)
    {
        var sorted = OtlpAttributes.Sorted(attributes);
        _service = null;
        _serviceNamespace = null;
        foreach (var attribute in sorted)
        {
            if (attribute.Key == ServiceNameAttribute) _service ??= OtlpAttributes.ToText(attribute.Value);
            else if (attribute.Key == ServiceNamespaceAttribute) _serviceNamespace ??= OtlpAttributes.ToText(attribute.Value);
        }

        _identity.Reset().AddInt64(sorted.Length);
        foreach (var attribute in sorted) OtlpAttributes.AddTo(_identity, attribute);
        _resource = _identity.Written.ToArray();
    }

    private void MapMetric(Metric metric)
    {
        if (MetricRules.CheckName(metric.Name) is { } nameProblem)
        {
            _report.Reject("invalid_name", $"metric '{Shorten(metric.Name)}': the name {nameProblem}", DataPointCount(metric));
            return;
        }

        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                foreach (var point in metric.Gauge.DataPoints) MapNumber(metric.Name, point, cumulative: false);
                break;

            case Metric.DataOneofCase.Sum:
                var sum = metric.Sum;
                if (sum.IsMonotonic && sum.AggregationTemporality == AggregationTemporality.Unspecified)
                {
                    RejectAll("unspecified_temporality", metric, "a monotonic sum must say whether it is DELTA or CUMULATIVE");
                    break;
                }

                // Only a monotonic cumulative sum is a running total; an up-down
                // counter's cumulative value is its current value, stored as it is.
                var cumulative = sum.IsMonotonic && sum.AggregationTemporality == AggregationTemporality.Cumulative;
                foreach (var point in sum.DataPoints) MapNumber(metric.Name, point, cumulative);
                break;

            case Metric.DataOneofCase.Histogram:
                if (metric.Histogram.AggregationTemporality == AggregationTemporality.Unspecified)
                {
                    RejectAll("unspecified_temporality", metric, "a histogram must say whether it is DELTA or CUMULATIVE");
                    break;
                }

                foreach (var point in metric.Histogram.DataPoints)
                {
                    MapHistogram(metric.Name, point, metric.Histogram.AggregationTemporality == AggregationTemporality.Cumulative);
                }

                break;

            case Metric.DataOneofCase.ExponentialHistogram:
                if (metric.ExponentialHistogram.AggregationTemporality == AggregationTemporality.Unspecified)
                {
                    RejectAll("unspecified_temporality", metric, "a histogram must say whether it is DELTA or CUMULATIVE");
                    break;
                }

                foreach (var point in metric.ExponentialHistogram.DataPoints)
                {
                    MapExponentialHistogram(metric.Name, point, metric.ExponentialHistogram.AggregationTemporality == AggregationTemporality.Cumulative);
                }

                break;

            case Metric.DataOneofCase.Summary:
                foreach (var point in metric.Summary.DataPoints) MapSummary(metric.Name, point);
                break;
        }
    }

    private void MapNumber(string metric, NumberDataPoint point, bool cumulative)
    {
        if ((point.Flags & NoRecordedValue) != 0)
        {
            _report.Skip("no_recorded_value");
            return;
        }

        double value;
        switch (point.ValueCase)
        {
            case NumberDataPoint.ValueOneofCase.AsDouble:
                value = point.AsDouble;
                break;
            case NumberDataPoint.ValueOneofCase.AsInt:
                value = point.AsInt;
                break;
            default:
                Reject("missing_value", metric, "the data point has neither as_double nor as_int");
                return;
        }

        Add(metric, point.Attributes, point.StartTimeUnixNano, point.TimeUnixNano, value, distribution: null, cumulative);
    }

    // What both histogram kinds are checked for first.
    private bool HasObservations(string metric, uint flags, ulong count, bool hasSum)
    {
        if ((flags & NoRecordedValue) != 0)
        {
            _report.Skip("no_recorded_value");
            return false;
        }

        if (count == 0)
        {
            // Nothing observed: nothing to store, whichever the temporality (a
            // cumulative series' first observations count whole later, as its start time is known).
            _report.Skip("empty");
            return false;
        }

        if (!hasSum)
        {
            Reject("missing_sum", metric, "the histogram has no sum (a histogram of negative values must still send it)");
            return false;
        }

        return true;
    }

    private void MapHistogram(string metric, HistogramDataPoint point, bool cumulative)
    {
        if (!HasObservations(metric, point.Flags, point.Count, point.HasSum)) return;

        double[] bounds = [];
        long[] counts = [];
        var bucketCounts = point.BucketCounts;
        if (point.ExplicitBounds.Count == 0 && bucketCounts.Count <= 1)
        {
            // Only the count and sum (one bucket holding everything, or none listed).
            if (bucketCounts.Count == 1 && bucketCounts[0] != point.Count)
            {
                Reject("count_mismatch", metric, "the bucket counts do not add up to count");
                return;
            }
        }
        else if (bucketCounts.Count != point.ExplicitBounds.Count + 1)
        {
            Reject("bucket_mismatch", metric, "bucket_counts must have one more entry than explicit_bounds");
            return;
        }
        else
        {
            bounds = [.. point.ExplicitBounds];
            counts = new long[bucketCounts.Count];
            ulong total = 0;
            for (var i = 0; i < counts.Length; i++)
            {
                if (bucketCounts[i] > (ulong)MetricRules.MaxObservations)
                {
                    Reject("invalid_histogram", metric, $"a bucket count is over {MetricRules.MaxObservations}");
                    return;
                }

                counts[i] = (long)bucketCounts[i];
                total += bucketCounts[i];
            }

            if (total != point.Count)
            {
                Reject("count_mismatch", metric, "the bucket counts do not add up to count");
                return;
            }
        }

        var distribution = DistributionOf(point.Count, point.HasMin ? point.Min : null, point.HasMax ? point.Max : null, bounds, counts);
        Add(metric, point.Attributes, point.StartTimeUnixNano, point.TimeUnixNano, point.Sum, distribution, cumulative);
    }

    private void MapExponentialHistogram(string metric, ExponentialHistogramDataPoint point, bool cumulative)
    {
        if (!HasObservations(metric, point.Flags, point.Count, point.HasSum)) return;

        IReadOnlyList<ulong> positive = point.Positive?.BucketCounts ?? (IReadOnlyList<ulong>)[];
        IReadOnlyList<ulong> negative = point.Negative?.BucketCounts ?? (IReadOnlyList<ulong>)[];
        if (ExponentialBuckets.TryConvert(point.Scale, point.ZeroThreshold, point.ZeroCount,
                point.Positive?.Offset ?? 0, positive, point.Negative?.Offset ?? 0, negative,
                out var bounds, out var counts) is { } problem)
        {
            Reject("invalid_buckets", metric, $"the exponential histogram {problem}");
            return;
        }

        var total = point.ZeroCount;
        foreach (var count in positive) total += count;
        foreach (var count in negative) total += count;
        if (total != point.Count)
        {
            Reject("count_mismatch", metric, "zero_count and the bucket counts do not add up to count");
            return;
        }

        var distribution = DistributionOf(point.Count, point.HasMin ? point.Min : null, point.HasMax ? point.Max : null, bounds, counts);
        Add(metric, point.Attributes, point.StartTimeUnixNano, point.TimeUnixNano, point.Sum, distribution, cumulative);
    }

    private void MapSummary(string metric, SummaryDataPoint point)
    {
        if ((point.Flags & NoRecordedValue) != 0)
        {
            _report.Skip("no_recorded_value");
            return;
        }

        if (point.Count == 0)
        {
            _report.Skip("empty");
            return;
        }

        // OTLP summaries are always cumulative (count and sum since the start time).
        Add(metric, point.Attributes, point.StartTimeUnixNano, point.TimeUnixNano, point.Sum,
            DistributionOf(point.Count, min: null, max: null, [], []), cumulative: true);
    }

    private void Add(string metric, RepeatedField<KeyValue> rawAttributes, ulong startNanos, ulong timeNanos,
        double value, Distribution? distribution, bool cumulative)
    {
        if (timeNanos == 0)
        {
            Reject("missing_timestamp", metric, "time_unix_nano is not set");
            return;
        }

        var attributes = OtlpAttributes.Sorted(rawAttributes);
        var tags = new BoundedTags();
        if (_service is not null) tags.TryAdd(ServiceTag, _service);
        if (_serviceNamespace is not null) tags.TryAdd(ServiceNamespaceTag, _serviceNamespace);
        foreach (var attribute in attributes) tags.TryAdd(attribute.Key, OtlpAttributes.ToText(attribute.Value));

        var point = new MetricPoint
        {
            Id = Guid.CreateVersion7(),
            Metric = metric,
            Value = value,
            Timestamp = ToMilliseconds(timeNanos),
            Tags = tags.ToTags(),
            Distribution = distribution,
            Cumulative = cumulative
                ? new CumulativeSeries { Series = SeriesOf(metric, attributes), StartTime = ToMilliseconds(startNanos) }
                : null,
        };

        foreach (var (field, problem) in MetricRules.Check(point, _now))
        {
            Reject(ReasonFor(field), metric, $"{field} {problem}");
            return;
        }

        _report.DropTags(tags.Dropped);
        _points.Add(point);
    }

    private Guid SeriesOf(string metric, KeyValue[] attributes)
    {
        _identity.Reset().AddString("otlp").AddString(metric).AddEncoded(_resource).AddString(_scope).AddInt64(attributes.Length);
        foreach (var attribute in attributes) OtlpAttributes.AddTo(_identity, attribute);
        return _identity.ToGuid();
    }

    private static Distribution DistributionOf(ulong count, double? min, double? max, double[] bounds, long[] counts) => new()
    {
        // A count beyond long's range stays out of range, for MetricRules to reject.
        Count = count > long.MaxValue ? -1 : (long)count,
        Min = min,
        Max = max,
        Bounds = bounds,
        BucketCounts = counts,
    };

    public static long ToMilliseconds(ulong unixNanos) => (long)(unixNanos / 1_000_000);

    private static string ReasonFor(string field) => field switch
    {
        "metric" => "invalid_name",
        "value" => "non_finite_value",
        "timestamp" => "timestamp_out_of_range",
        "cumulative.startTime" => "invalid_start_time",
        "count" or "min" or "max" or "buckets.bounds" or "buckets.counts" => "invalid_histogram",
        _ => "invalid_point",
    };

    private void Reject(string reason, string metric, string problem) =>
        _report.Reject(reason, $"metric '{Shorten(metric)}': {problem}");

    private void RejectAll(string reason, Metric metric, string problem) =>
        _report.Reject(reason, $"metric '{Shorten(metric.Name)}': {problem}", DataPointCount(metric));

    private static int DataPointCount(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Count,
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Count,
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Count,
        Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Count,
        Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Count,
        _ => 0,
    };

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
