using ContentMax.Contracts;

namespace ContentMax.Aggregation.Rollups;

// The minute and hour rollups of one storage write, built in memory: one row
// per (minute, name) and per (hour, name) holding count, sum, min, max, a
// sketch and how many of the observations came from distributions. The store
// then merges each row into the database once, whatever the number of points
// behind it.
public sealed class RollupBatch
{
    private const long MsPerMinute = 60_000;
    private const long MsPerHour = 3_600_000;

    private readonly Dictionary<(long Minute, string Name), RollupRow> _minutes = new();

    public int PointCount { get; private set; }

    // Adds one stored point. A distribution's own sketch is passed in, as the
    // store builds it once for the raw row too.
    public void Add(MetricPoint point, LogSketch? distribution)
    {
        PointCount++;
        var minute = point.Timestamp - Mod(point.Timestamp, MsPerMinute);
        if (!_minutes.TryGetValue((minute, point.Metric), out var row))
        {
            _minutes[(minute, point.Metric)] = row = new RollupRow(minute, point.Metric);
        }

        if (distribution is null)
        {
            row.Add(1, point.Value, point.Value, point.Value, 0);
            row.Sketch.Add(point.Value);
        }
        else
        {
            var d = point.Distribution!;
            row.Add(d.Count, point.Value, d.Min ?? distribution.LowestValue, d.Max ?? distribution.HighestValue, d.Count);
            row.Sketch.Merge(distribution);
        }
    }

    public IReadOnlyCollection<RollupRow> Minutes => _minutes.Values;

    // Hour rows, merged from this batch's minute rows.
    public List<RollupRow> Hours()
    {
        var hours = new Dictionary<(long Hour, string Name), RollupRow>();
        foreach (var minute in _minutes.Values)
        {
            var hour = minute.BucketMs - Mod(minute.BucketMs, MsPerHour);
            if (!hours.TryGetValue((hour, minute.Name), out var row))
            {
                hours[(hour, minute.Name)] = row = new RollupRow(hour, minute.Name);
            }

            row.Add(minute.Count, minute.Sum, minute.Min, minute.Max, minute.DistCount);
            row.Sketch.Merge(minute.Sketch);
        }

        return [.. hours.Values];
    }

    // Timestamps before 1970 are valid Unix milliseconds too.
    private static long Mod(long value, long unit) => ((value % unit) + unit) % unit;
}

public sealed class RollupRow(long bucketMs, string name)
{
    public long BucketMs { get; } = bucketMs;
    public string Name { get; } = name;
    public long Count { get; private set; }
    public double Sum { get; private set; }
    public double Min { get; private set; } = double.PositiveInfinity;
    public double Max { get; private set; } = double.NegativeInfinity;
    public long DistCount { get; private set; }
    public LogSketch Sketch { get; } = new();

    public DateTime Bucket => DateTime.UnixEpoch.AddMilliseconds(BucketMs);

    public void Add(long count, double sum, double min, double max, long distCount)
    {
        Count += count;
        Sum += sum;
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
        DistCount += distCount;
    }
}
