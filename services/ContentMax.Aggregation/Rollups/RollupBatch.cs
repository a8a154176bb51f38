using ContentMax.Contracts;

namespace ContentMax.Aggregation.Rollups;

// The minute and hour rollups of one storage write, built in memory: one row
// per (minute, name) and per (hour, name) holding count, sum, min, max, a
// sketch and how many of the observations came from distributions. The store
// then merges each row into the database once, whatever the number of points
// behind it.
//
// With tag keys (Aggregation:RollupTagKeys), also the tagged rollups: one row
// per (minute, name, dims) and (hour, name, dims), dims being the JSON object
// of the values the point carries for those keys. A point with none of the
// keys (or no tags) adds to no tagged row and costs nothing more.
public sealed class RollupBatch(IReadOnlyList<string>? tagKeys = null)
{
    private const long MsPerMinute = 60_000;
    private const long MsPerHour = 3_600_000;

    private readonly Dictionary<(long Minute, string Name), RollupRow> _minutes = new();
    private readonly Dictionary<(long Minute, string Name, string Dims), RollupRow> _taggedMinutes = new();
    private readonly string[] _tagKeys = tagKeys is null ? [] : [.. tagKeys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    // The last point's values for the tag keys and their JSON: points of one
    // write mostly share them, so the JSON is rebuilt only when they change.
    private string?[]? _lastValues;
    private string? _lastDims;

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

        if (_tagKeys.Length == 0 || point.Tags is not { Count: > 0 } tags || DimsOf(tags) is not { } dims) return;
        if (!_taggedMinutes.TryGetValue((minute, point.Metric, dims), out var tagged))
        {
            _taggedMinutes[(minute, point.Metric, dims)] = tagged = new RollupRow(minute, point.Metric, dims);
        }

        if (distribution is null)
        {
            tagged.Add(1, point.Value, point.Value, point.Value, 0);
            tagged.Sketch.Add(point.Value);
        }
        else
        {
            var d = point.Distribution!;
            tagged.Add(d.Count, point.Value, d.Min ?? distribution.LowestValue, d.Max ?? distribution.HighestValue, d.Count);
            tagged.Sketch.Merge(distribution);
        }
    }

    public IReadOnlyCollection<RollupRow> Minutes => _minutes.Values;

    public IReadOnlyCollection<RollupRow> TaggedMinutes => _taggedMinutes.Values;

    // The JSON object of the point's values for the tag keys, in key order; null when it has none of them.
    private string? DimsOf(Dictionary<string, string> tags)
    {
        string?[]? values = null;
        for (var i = 0; i < _tagKeys.Length; i++)
        {
            if (!tags.TryGetValue(_tagKeys[i], out var value)) continue;
            values ??= new string?[_tagKeys.Length];
            values[i] = value;
        }

        if (values is null) return null;
        if (_lastValues is not null && values.AsSpan().SequenceEqual(_lastValues)) return _lastDims;

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            for (var i = 0; i < _tagKeys.Length; i++)
            {
                if (values[i] is { } value) writer.WriteString(_tagKeys[i], value);
            }

            writer.WriteEndObject();
        }

        _lastValues = values;
        return _lastDims = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

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

    // Tagged hour rows, merged from this batch's tagged minute rows.
    public List<RollupRow> TaggedHours()
    {
        var hours = new Dictionary<(long Hour, string Name, string Dims), RollupRow>();
        foreach (var minute in _taggedMinutes.Values)
        {
            var hour = minute.BucketMs - Mod(minute.BucketMs, MsPerHour);
            if (!hours.TryGetValue((hour, minute.Name, minute.Dims!), out var row))
            {
                hours[(hour, minute.Name, minute.Dims!)] = row = new RollupRow(hour, minute.Name, minute.Dims);
            }

            row.Add(minute.Count, minute.Sum, minute.Min, minute.Max, minute.DistCount);
            row.Sketch.Merge(minute.Sketch);
        }

        return [.. hours.Values];
    }

    // Timestamps before 1970 are valid Unix milliseconds too.
    private static long Mod(long value, long unit) => ((value % unit) + unit) % unit;
}

public sealed class RollupRow(long bucketMs, string name, string? dims = null)
{
    public long BucketMs { get; } = bucketMs;
    public string Name { get; } = name;

    // The tagged rollups' JSON object of tag values; null for an untagged row.
    public string? Dims { get; } = dims;
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
