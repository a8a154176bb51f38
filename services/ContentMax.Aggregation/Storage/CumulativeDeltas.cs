using ContentMax.Contracts;

namespace ContentMax.Aggregation.Storage;

// The last stored point of a cumulative series (a row of cumulative_series).
public sealed record CumulativeState(
    Guid Series, long StartTime, long LastTimestamp, double Value,
    long? Count = null, double? Min = null, double? Max = null, double[]? Bounds = null, long[]? BucketCounts = null);

// Turns cumulative points (running totals since a start time, as OpenTelemetry
// exports by default and Prometheus always scrapes) into the deltas that are
// stored, against the last point of each series:
//
//   - A point no newer than the last one of its series is a repeat (an export
//     retried, a scrape sent twice) or out of order, and adds nothing: the
//     later point already covered it. So exporting many times never counts twice.
//   - A new start time, or a total that went down, is a reset (the source
//     restarted): the delta is the whole new total, which counts since the restart.
//   - The first point of a series counts whole when its start time is known
//     and recent (it is what happened since the source started); otherwise
//     (Prometheus gives no start time) it only sets the baseline.
//   - A histogram's buckets are subtracted bucket by bucket. When the source
//     coarsened its layout (an exponential histogram downscaling), the last
//     point is re-bucketed onto the new bounds first; any other change of
//     layout is a reset. The delta's min and max are exact when they moved
//     (the running minimum fell, so this interval held it) and unknown otherwise.
//   - A delta of nothing (no new observations, an unchanged counter) is not stored.
public static class CumulativeDeltas
{
    public sealed record Result(List<MetricPoint> Deltas, List<CumulativeState> States, int Repeats, int Baselines, int Resets);

    public static Result Apply(IEnumerable<MetricPoint> points, IReadOnlyDictionary<Guid, CumulativeState> states, TimeSpan maxStartAge)
    {
        var deltas = new List<MetricPoint>();
        var updated = new Dictionary<Guid, CumulativeState>();
        int repeats = 0, baselines = 0, resets = 0;

        foreach (var point in points.OrderBy(p => p.Cumulative!.Series).ThenBy(p => p.Timestamp))
        {
            var cumulative = point.Cumulative!;
            var last = updated.GetValueOrDefault(cumulative.Series) ?? states.GetValueOrDefault(cumulative.Series);
            if (last is not null && point.Timestamp <= last.LastTimestamp)
            {
                repeats++;
                continue;
            }

            updated[cumulative.Series] = StateOf(point);
            MetricPoint? delta;
            if (last is null)
            {
                var knownRecentStart = cumulative.StartTime > 0 && point.Timestamp - cumulative.StartTime <= (long)maxStartAge.TotalMilliseconds;
                if (!knownRecentStart)
                {
                    baselines++;
                    continue;
                }

                delta = Whole(point);
            }
            else if (IsReset(point, last))
            {
                resets++;
                delta = Whole(point);
            }
            else if (!TrySubtract(point, last, out delta))
            {
                resets++;
                delta = Whole(point);
            }

            if (delta is not null) deltas.Add(delta);
        }

        return new Result(deltas, [.. updated.Values], repeats, baselines, resets);
    }

    private static CumulativeState StateOf(MetricPoint p) => new(
        p.Cumulative!.Series, p.Cumulative.StartTime, p.Timestamp, p.Value,
        p.Distribution?.Count, p.Distribution?.Min, p.Distribution?.Max, p.Distribution?.Bounds, p.Distribution?.BucketCounts);

    private static bool IsReset(MetricPoint p, CumulativeState last) =>
        (p.Cumulative!.StartTime != 0 && p.Cumulative.StartTime != last.StartTime)
        || (p.Distribution is null ? p.Value < last.Value : last.Count is null || p.Distribution.Count < last.Count);

    // The whole running total, as a delta point; null when it holds nothing.
    private static MetricPoint? Whole(MetricPoint p) =>
        p.Distribution is null
            ? p.Value == 0 ? null : p with { Cumulative = null }
            : p.Distribution.Count == 0 ? null : p with { Cumulative = null };

    // This point less the last one (null when nothing happened in between).
    // False when the two cannot be subtracted (a bucket count went down, or the
    // bucket layout changed incompatibly): the caller treats that as a reset.
    private static bool TrySubtract(MetricPoint p, CumulativeState last, out MetricPoint? delta)
    {
        delta = null;
        if (p.Distribution is not { } d)
        {
            var increase = p.Value - last.Value;
            if (increase != 0) delta = p with { Value = increase, Cumulative = null };
            return true;
        }

        var count = d.Count - last.Count!.Value;
        if (count == 0) return true;

        long[] counts = [];
        if (d.Bounds.Length > 0)
        {
            if (Rebucket(last, d.Bounds) is not { } previous) return false;
            counts = new long[d.BucketCounts.Length];
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = d.BucketCounts[i] - previous[i];
                if (counts[i] < 0) return false;
            }
        }

        delta = p with
        {
            Value = p.Value - last.Value,
            Cumulative = null,
            Distribution = new Distribution
            {
                Count = count,
                Min = d.Min is { } min && (last.Min is null || min < last.Min) ? min : null,
                Max = d.Max is { } max && (last.Max is null || max > last.Max) ? max : null,
                Bounds = d.Bounds,
                BucketCounts = counts,
            },
        };
        return true;
    }

    // The last point's bucket counts on the given bounds, or null when they
    // cannot be carried over: every old bucket that holds observations must
    // lie inside one new bucket (no new bound strictly within it). Same bounds
    // carry over as they are; a coarsened layout (an exponential histogram
    // downscaling) merges buckets; a layout that grew to new ranges keeps the
    // old buckets where they were, as long as those held nothing there.
    internal static long[]? Rebucket(CumulativeState last, double[] bounds)
    {
        if (last.Bounds is not { } old || last.BucketCounts is not { } oldCounts || oldCounts.Length != old.Length + 1) return null;
        if (old.AsSpan().SequenceEqual(bounds)) return oldCounts;

        var merged = new long[bounds.Length + 1];
        for (var j = 0; j < oldCounts.Length; j++)
        {
            if (oldCounts[j] == 0) continue;
            var lower = j == 0 ? double.NegativeInfinity : old[j - 1];
            var upper = j == old.Length ? double.PositiveInfinity : old[j];
            // The new bucket holding `upper`: the first whose bound is at least it.
            var k = Array.BinarySearch(bounds, upper);
            if (k < 0) k = ~k;
            if (k > 0 && bounds[k - 1] > lower) return null;
            merged[k] += oldCounts[j];
        }

        return merged;
    }
}
