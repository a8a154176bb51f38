using ContentMax.Contracts.Http;
using ContentMax.Aggregation.Queries;

namespace ContentMax.UnitTests;

public class ExplorerQueryTests
{
    [Theory]
    [InlineData("status:200", "status", "200", false)]
    [InlineData("route!=/a", "route", "/a", true)]
    [InlineData("route!=/a:b", "route", "/a:b", true)]
    [InlineData("url:http://x!=y", "url", "http://x!=y", false)]
    [InlineData("status:", "status", "", false)]
    [InlineData("k!=", "k", "", true)]
    public void Filter_SplitsAtWhicheverOperatorComesFirst(string text, string key, string value, bool negated)
    {
        var errors = new Dictionary<string, string[]>();
        var filter = Assert.Single(ExplorerQuery.ParseFilters([text], errors));
        Assert.Empty(errors);
        Assert.Equal(new TagFilter(key, value, negated), filter);
        Assert.Equal(text, filter.ToString());
    }

    [Theory]
    [InlineData("nooperator")]
    [InlineData(":200")]
    [InlineData("!=200")]
    [InlineData("")]
    public void Filter_WithoutKeyOrOperator_IsAnErrorOnFilter(string text)
    {
        var errors = new Dictionary<string, string[]>();
        Assert.Empty(ExplorerQuery.ParseFilters([text], errors));
        Assert.Contains("filter", errors.Keys);
    }

    [Fact]
    public void Filter_KeyAndValueFollowTheTagRules()
    {
        var errors = new Dictionary<string, string[]>();
        ExplorerQuery.ParseFilters([new string('k', 101) + ":v"], errors);
        Assert.Contains("at most 100 characters", Assert.Single(errors["filter"]));

        errors.Clear();
        ExplorerQuery.ParseFilters(["k:" + new string('v', 201)], errors);
        Assert.Contains("at most 200 characters", Assert.Single(errors["filter"]));

        errors.Clear();
        Assert.Single(ExplorerQuery.ParseFilters([new string('k', 100) + ":" + new string('v', 200)], errors));
        Assert.Empty(errors);
    }

    [Fact]
    public void Filters_AtMostTen()
    {
        var errors = new Dictionary<string, string[]>();
        Assert.Equal(10, ExplorerQuery.ParseFilters([.. Enumerable.Range(0, 10).Select(i => $"k{i}:v")], errors).Count);
        Assert.Empty(errors);
        ExplorerQuery.ParseFilters([.. Enumerable.Range(0, 11).Select(i => $"k{i}:v")], errors);
        Assert.Equal("at most 10 filters may be given", Assert.Single(errors["filter"]));
    }

    [Fact]
    public void GroupBy_UpToTwoDistinctKeys()
    {
        var errors = new Dictionary<string, string[]>();
        Assert.Equal(["route", "status"], ExplorerQuery.ParseGroupBy(["route", "status"], errors));
        Assert.Empty(ExplorerQuery.ParseGroupBy(null, errors));
        Assert.Empty(errors);

        ExplorerQuery.ParseGroupBy(["route", "route"], errors);
        Assert.Contains("distinct", Assert.Single(errors["groupBy"]));
        errors.Clear();
        ExplorerQuery.ParseGroupBy(["a", "b", "c"], errors);
        Assert.Contains("at most 2", Assert.Single(errors["groupBy"]));
        errors.Clear();
        ExplorerQuery.ParseGroupBy([""], errors);
        Assert.Contains("groupBy", errors.Keys);
        errors.Clear();
        ExplorerQuery.ParseGroupBy([new string('k', 101)], errors);
        Assert.Contains("at most 100 characters", Assert.Single(errors["groupBy"]));
    }

    [Fact]
    public void Aggregation_IsOneOfTheNamedOnes()
    {
        var errors = new Dictionary<string, string[]>();
        Assert.Equal("avg", ExplorerQuery.ParseAggregation(null, "avg", errors));
        foreach (var agg in ExplorerQuery.Aggregations) Assert.Equal(agg, ExplorerQuery.ParseAggregation(agg, "avg", errors));
        Assert.Empty(errors);
        ExplorerQuery.ParseAggregation("p90", "avg", errors);
        Assert.Equal("must be one of count, sum, avg, min, max, p50, p75, p95, p99", Assert.Single(errors["agg"]));
    }

    [Fact]
    public void Pick_ReadsTheAggregationsFigure()
    {
        var a = new MetricAggregate(4, 10, 1, 4, 2.5, 2.5, 3, 4, 4);
        Assert.Equal([4, 10, 2.5, 1, 4, 2.5, 3, 4, 4], ExplorerQuery.Aggregations.Select(agg => ExplorerQuery.Pick(a, agg)!.Value));
        Assert.Null(ExplorerQuery.Pick(null, "p95"));
    }
}
