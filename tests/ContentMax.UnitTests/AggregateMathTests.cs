using ContentMax.Contracts.Http;
using ContentMax.Aggregation.Queries;

namespace ContentMax.UnitTests;

// The aggregate math against a naive, literal reference of the product's
// definitions, on random data of every size from 1 to 500 and some large ones.
public class AggregateMathTests
{
    private sealed record Reference(long Count, double Sum, double Min, double Max, double Average, double Median, double P95, double P99);

    private static Reference Naive(IEnumerable<double> input)
    {
        var values = input.ToList();
        var sorted = values.OrderBy(v => v).ToList();
        double sum = 0;
        foreach (var v in values) sum += v;
        double median = sorted.Count % 2 == 0
            ? (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2
            : sorted[sorted.Count / 2];
        // Nearest rank ceil(N/100 × count), in exact decimal arithmetic.
        double Pct(int n) => sorted[(int)Math.Ceiling(n / 100m * sorted.Count) - 1];
        return new Reference(values.Count, sum, sorted[0], sorted[^1], sum / values.Count, median, Pct(95), Pct(99));
    }

    public static TheoryData<int> Seeds() => [1, 2, 3, 42, 2026];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Aggregate_MatchesNaiveReference_ForEverySizeUpTo500(int seed)
    {
        var random = new Random(seed);
        for (var n = 1; n <= 500; n++)
        {
            var values = Enumerable.Range(0, n).Select(_ => Math.Round((random.NextDouble() - 0.2) * 1000, 3)).ToArray();
            AssertMatches(values);
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(99_999)]
    [InlineData(100_000)]
    public void Aggregate_MatchesNaiveReference_ForLargeSkewedData(int n)
    {
        var random = new Random(n);
        // Log-normal, with repeated values and zeros mixed in.
        var values = Enumerable.Range(0, n)
            .Select(i => i % 17 == 0 ? 0 : Math.Round(Math.Exp(random.NextDouble() * 4 + random.NextDouble() * 3), 1))
            .ToArray();
        AssertMatches(values);
    }

    [Fact]
    public void Rank_IsExactAtBoundaries()
    {
        Assert.Equal(1, Percentiles.Rank(1, 95));
        Assert.Equal(95, Percentiles.Rank(100, 95));
        Assert.Equal(96, Percentiles.Rank(101, 95));
        Assert.Equal(99, Percentiles.Rank(100, 99));
        Assert.Equal(100, Percentiles.Rank(101, 99));
        Assert.Equal(7, Percentiles.Rank(100, 7)); // 0.07 × 100 is 7.000000000000001 in floating point.
    }

    private static void AssertMatches(double[] values)
    {
        var expected = Naive(values);
        var sorted = values.OrderBy(v => v).ToArray();
        var actual = Percentiles.Aggregate(sorted, values.Sum());

        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Sum, actual.Sum, 6);
        Assert.Equal(expected.Min, actual.Min);
        Assert.Equal(expected.Max, actual.Max);
        Assert.Equal(expected.Average, actual.Average, 6);
        Assert.Equal(expected.Median, actual.Median);
        Assert.Equal(expected.P95, actual.P95);
        Assert.Equal(expected.P99, actual.P99);
    }
}
