using ContentMax.Aggregation.Queries;
using ContentMax.Aggregation.Rollups;

namespace ContentMax.UnitTests;

public class LogSketchTests
{
    private const int Samples = 1_000_000;

    public static TheoryData<string> Distributions() => ["lognormal", "bimodal", "zeros-and-negatives", "uniform-wide"];

    private static double[] Generate(string distribution, int n)
    {
        var random = new Random(distribution.GetHashCode(StringComparison.Ordinal) & 0x7fff);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return distribution switch
        {
            "lognormal" => Enumerable.Range(0, n).Select(_ => Math.Exp(5 + 1.5 * Normal())).ToArray(),
            "bimodal" => Enumerable.Range(0, n).Select(i => i % 10 < 7 ? 80 + 10 * Normal() : 2500 + 400 * Normal()).ToArray(),
            "zeros-and-negatives" => Enumerable.Range(0, n).Select(i => (i % 5) switch
            {
                0 => 0.0,
                1 => -Math.Exp(2 + Normal()),
                _ => Math.Exp(3 + 2 * Normal()),
            }).ToArray(),
            _ => Enumerable.Range(0, n).Select(_ => Math.Pow(10, random.NextDouble() * 12 - 6)).ToArray(),
        };
    }

    [Theory]
    [MemberData(nameof(Distributions))]
    public void Percentiles_AreWithinOnePercentOfExactNearestRank_OnAMillionValues(string distribution)
    {
        var values = Generate(distribution, Samples);
        var sketch = new LogSketch();
        foreach (var v in values) sketch.Add(v);
        var sorted = values.Order().ToArray();

        foreach (var percent in new[] { 50, 75, 95, 99 })
        {
            var exact = Percentiles.NearestRank(sorted, percent);
            var estimate = sketch.ValueAtRank(Percentiles.Rank(sorted.Length, percent), sorted[0], sorted[^1]);
            AssertWithinOnePercent(exact, estimate, $"{distribution} p{percent}");
        }
    }

    [Fact]
    public void MergedSketches_EqualOneSketchOfEverything()
    {
        var values = Generate("lognormal", 100_000);
        var whole = new LogSketch();
        var parts = Enumerable.Range(0, 60).Select(_ => new LogSketch()).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            whole.Add(values[i]);
            parts[i % parts.Length].Add(values[i]);
        }

        var merged = new LogSketch();
        foreach (var part in parts)
        {
            var (keys, counts) = part.ToArrays();
            merged.Merge(keys, counts);
        }

        Assert.Equal(whole.ToArrays().Keys, merged.ToArrays().Keys);
        Assert.Equal(whole.ToArrays().Counts, merged.ToArrays().Counts);
        Assert.Equal(values.Length, merged.Count);
    }

    [Fact]
    public void KeyOrder_IsValueOrder()
    {
        double[] values = [-1e12, -5, -1.0001, -1, -1e-8, 0, 1e-10, 1e-8, 0.5, 1, 1.02, 1e6, 1e300];
        var keys = values.Select(LogSketch.KeyOf).ToArray();
        Assert.Equal(keys.Order(), keys);
        Assert.Equal(0, LogSketch.KeyOf(1e-10));
        Assert.Equal(0, LogSketch.KeyOf(-1e-10));
    }

    [Theory]
    [InlineData(1e-9)]
    [InlineData(0.001)]
    [InlineData(1)]
    [InlineData(2500)]
    [InlineData(123456.789)]
    [InlineData(1e300)]
    [InlineData(-42)]
    public void ValueOfKey_IsWithinTheRelativeAccuracy(double value) =>
        Assert.InRange(Math.Abs(LogSketch.ValueOf(LogSketch.KeyOf(value)) - value) / Math.Abs(value), 0, LogSketch.RelativeAccuracy * 1.0001);

    [Fact]
    public void ValueAtRank_ReturnsExactExtremes()
    {
        var sketch = new LogSketch();
        foreach (var v in new[] { 3.3, 7.7, 1.1 }) sketch.Add(v);
        Assert.Equal(1.1, sketch.ValueAtRank(1, 1.1, 7.7));
        Assert.Equal(7.7, sketch.ValueAtRank(3, 1.1, 7.7));
        AssertWithinOnePercent(3.3, sketch.ValueAtRank(2, 1.1, 7.7), "middle");
    }

    [Theory]
    [MemberData(nameof(Distributions))]
    public void APackedSketch_MergesAsItsArraysDo_InAnyBucketOrder(string distribution)
    {
        var source = new LogSketch();
        foreach (var value in Generate(distribution, 20_000)) source.Add(value);
        var (keys, counts) = source.ToArrays();
        // As sketch_pack writes it: (key int4, count int8) big-endian per bucket; reversed, as order is not promised.
        var packed = new byte[keys.Length * LogSketch.PackedSize];
        for (var i = 0; i < keys.Length; i++)
        {
            var at = (keys.Length - 1 - i) * LogSketch.PackedSize;
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(packed.AsSpan(at), keys[i]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(packed.AsSpan(at + 4), counts[i]);
        }

        var fromArrays = new LogSketch();
        fromArrays.Merge(keys, counts);
        fromArrays.Merge(keys, counts);
        var fromPacked = new LogSketch();
        fromPacked.MergePacked(packed);
        fromPacked.Merge(keys, counts);

        Assert.Equal(fromArrays.ToArrays().Keys, fromPacked.ToArrays().Keys);
        Assert.Equal(fromArrays.ToArrays().Counts, fromPacked.ToArrays().Counts);
        Assert.Equal(2 * source.Count, fromPacked.Count);
    }

    [Fact]
    public void APackedSketchOfTheWrongLength_IsRefused()
    {
        var error = Assert.Throws<FormatException>(() => new LogSketch().MergePacked(new byte[LogSketch.PackedSize + 5]));

        Assert.Contains("12 bytes per bucket", error.Message);
    }

    [Fact]
    public void Buckets_ComeOutInValueOrder_AcrossSignsAndZero()
    {
        var sketch = new LogSketch();
        foreach (var v in new[] { 1e6, -5.0, 2.0, 0.0, -1.0, 2.0, 0.0 }) sketch.Add(v);

        var (keys, counts) = sketch.ToArrays();

        Assert.Equal(keys.Order(), keys);
        Assert.Equal([1, 1, 2, 2, 1], counts);
        Assert.Equal(5, sketch.BucketCount);
        Assert.Equal(7, sketch.Count);
        Assert.InRange(sketch.LowestValue, -5 * 1.006, -5 * 0.994);
        Assert.InRange(sketch.HighestValue, 1e6 * 0.994, 1e6 * 1.006);
    }

    [Theory]
    [InlineData(new[] { -3.0, -7.0 }, -7.0, -3.0)]
    [InlineData(new[] { 0.0, -2.0 }, -2.0, 0.0)]
    [InlineData(new[] { 0.0 }, 0.0, 0.0)]
    [InlineData(new[] { 4.0, 0.0 }, 0.0, 4.0)]
    public void LowestAndHighestValue_AreTheExtremeBuckets(double[] values, double lowest, double highest)
    {
        var sketch = new LogSketch();
        foreach (var v in values) sketch.Add(v);

        Assert.Equal(lowest, sketch.LowestValue, Math.Abs(lowest) * LogSketch.RelativeAccuracy);
        Assert.Equal(highest, sketch.HighestValue, Math.Abs(highest) * LogSketch.RelativeAccuracy);
    }

    [Fact]
    public void AnEmptySketch_HasNoExtremes() => Assert.True(double.IsNaN(new LogSketch().LowestValue) && double.IsNaN(new LogSketch().HighestValue));

    // Values arriving from both ends widen the page table both ways; merging
    // sketches of disjoint ranges gives what one sketch of everything gives.
    [Fact]
    public void Merge_OfSketchesOverDisjointRanges_EqualsOneSketchOfEverything()
    {
        var values = new[] { 1.0, 1e-6, 1e6, -1e-3, -1e9, 50.0, 0.0, 1e12, 3e-8, -0.25 };
        var whole = new LogSketch();
        var low = new LogSketch();
        var high = new LogSketch();
        foreach (var v in values)
        {
            whole.Add(v);
            (Math.Abs(v) < 1 ? low : high).Add(v);
        }

        var merged = new LogSketch();
        merged.Merge(high);
        merged.Merge(low);
        merged.Merge(new LogSketch());

        Assert.Equal(whole.ToArrays().Keys, merged.ToArrays().Keys);
        Assert.Equal(whole.ToArrays().Counts, merged.ToArrays().Counts);
        Assert.Equal(whole.BucketCount, merged.BucketCount);
        Assert.Equal(-1e9, merged.LowestValue, 1e9 * LogSketch.RelativeAccuracy);
        Assert.Equal(1e12, merged.HighestValue, 1e12 * LogSketch.RelativeAccuracy);
        Assert.Equal(-0.25, low.LowestValue, 0.25 * LogSketch.RelativeAccuracy);
        Assert.Equal(1e-6, low.HighestValue, 1e-6 * LogSketch.RelativeAccuracy);
        // Merging copies counts: the sources are unchanged.
        Assert.Equal(values.Count(v => Math.Abs(v) < 1), low.Count);
        Assert.Equal(low.ToArrays().Counts.Sum(), low.Count);
    }

    [Fact]
    public void ValuesAtRanks_AnswersRanksInAnyOrder()
    {
        var sketch = new LogSketch();
        for (var v = 1; v <= 100; v++) sketch.Add(v);

        var answers = sketch.ValuesAtRanks([99, 1, 50, 100, 75], 1, 100);

        Assert.Equal(1, answers[1]);
        Assert.Equal(100, answers[3]);
        Assert.Equal(99, answers[0], 99 * LogSketch.RelativeAccuracy);
        Assert.Equal(50, answers[2], 50 * LogSketch.RelativeAccuracy);
        Assert.Equal(75, answers[4], 75 * LogSketch.RelativeAccuracy);
    }

    // Many values close together (a merged chart cell) move to pages; a few
    // values spread over a wide range (a write's rollup row) stay in the
    // dictionary, where each bucket costs less than a page of 32.
    [Fact]
    public void ASketch_HoldsItsCountsInWhicheverFormCostsLess()
    {
        var close = new LogSketch();
        foreach (var value in Generate("lognormal", 20_000)) close.Add(value);
        var spread = new LogSketch();
        for (var i = 0; i < 200; i++) spread.Add(Math.Pow(10, i % 40 - 20) * (1 + i / 1000.0));

        Assert.True(close.IsPaged, $"{close.BucketCount} buckets of lognormal values stayed in the dictionary");
        Assert.False(spread.IsPaged, $"{spread.BucketCount} buckets spread over 40 decades moved to pages");
    }

    [Fact]
    public void Merge_AcrossForms_EqualsOneSketchOfEverything()
    {
        var values = Generate("zeros-and-negatives", 50_000);
        var whole = new LogSketch();
        foreach (var value in values) whole.Add(value);
        var paged = new LogSketch();
        foreach (var value in values.Skip(10)) paged.Add(value);
        var sparse = new LogSketch();
        foreach (var value in values.Take(10)) sparse.Add(value);
        Assert.True(paged.IsPaged && !sparse.IsPaged);

        var sparseFirst = new LogSketch();
        sparseFirst.Merge(sparse);
        sparseFirst.Merge(paged);
        var pagedFirst = new LogSketch();
        pagedFirst.Merge(paged);
        pagedFirst.Merge(sparse);

        foreach (var merged in new[] { sparseFirst, pagedFirst })
        {
            Assert.Equal(whole.ToArrays().Keys, merged.ToArrays().Keys);
            Assert.Equal(whole.ToArrays().Counts, merged.ToArrays().Counts);
            Assert.Equal(whole.Count, merged.Count);
            Assert.Equal(whole.LowestValue, merged.LowestValue);
            Assert.Equal(whole.HighestValue, merged.HighestValue);
        }
    }

    // Paged, values at the two ends of the range cost their pages and a table
    // of page slots over the span between them (8 bytes per 32 buckets), not
    // the ~580 KB of a count for every bucket between.
    [Fact]
    public void APagedSketch_CostsPagesWhereValuesFall_NotTheWholeRange()
    {
        var sketch = new LogSketch();
        foreach (var value in Generate("lognormal", 10_000)) sketch.Add(value);
        Assert.True(sketch.IsPaged);
        var before = GC.GetAllocatedBytesForCurrentThread();

        sketch.Add(LogSketch.MinMagnitude);
        sketch.Add(1e300);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 1, 48 * 1024);
    }

    private static void AssertWithinOnePercent(double exact, double estimate, string what)
    {
        var error = exact == 0 ? Math.Abs(estimate) : Math.Abs(estimate - exact) / Math.Abs(exact);
        Assert.True(error <= 0.01, $"{what}: exact {exact}, estimate {estimate}, relative error {error:P3}");
    }
}
