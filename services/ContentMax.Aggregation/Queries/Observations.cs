using ContentMax.Contracts.Http;
using Npgsql;

namespace ContentMax.Aggregation.Queries;

// The observations of one group (a tag value, a chart bucket, an alert
// selector's window): sorted single values from one row, and points that stand
// for many observations from others.
public sealed class Observations
{
    public AggregateBuilder Builder { get; } = new();
    private double[]? _values;

    // One row of the shape (count, sum, min, max, keys, counts, sorted
    // values) starting at column `first`. With `keep`, only the observations
    // of a histogram point whose bucket value it accepts are added (the
    // single values are expected to be filtered in SQL already); their sum and
    // extremes are then the buckets' values, within the sketch's 0.5%.
    public void Read(NpgsqlDataReader reader, int first, Func<double, bool>? keep = null)
    {
        if (!reader.IsDBNull(first + 6))
        {
            _values = reader.GetFieldValue<double[]>(first + 6);
            Builder.AddValues(_values);
            return;
        }

        var keys = reader.GetFieldValue<int[]>(first + 4);
        var counts = reader.GetFieldValue<long[]>(first + 5);
        if (keep is null)
        {
            Builder.AddDistribution(
                reader.GetInt64(first), reader.GetDouble(first + 1),
                reader.IsDBNull(first + 2) ? null : reader.GetDouble(first + 2),
                reader.IsDBNull(first + 3) ? null : reader.GetDouble(first + 3),
                keys, counts);
            return;
        }

        var keptKeys = new List<int>();
        var keptCounts = new List<long>();
        long count = 0;
        var sum = 0.0;
        for (var i = 0; i < keys.Length; i++)
        {
            var value = Rollups.LogSketch.ValueOf(keys[i]);
            if (!keep(value)) continue;
            keptKeys.Add(keys[i]);
            keptCounts.Add(counts[i]);
            count += counts[i];
            sum += value * counts[i];
        }

        if (count > 0) Builder.AddDistribution(count, sum, null, null, [.. keptKeys], [.. keptCounts]);
    }

    public MetricAggregate ToAggregate() => Builder.ToAggregate(_values);
}
