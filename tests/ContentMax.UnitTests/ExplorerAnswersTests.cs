using ContentMax.Aggregation.Queries;

namespace ContentMax.UnitTests;

public class ExplorerAnswersTests
{
    private static readonly DateTime From = new(2026, 11, 29, 10, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(5);

    private static GroupObservations Values(params double[] values)
    {
        var group = new GroupObservations(1000);
        group.AddValues(values);
        return group;
    }

    [Fact]
    public void Rank_TopByAggregationDescending_WithoutValueLast_RestApart()
    {
        var totals = new Dictionary<string, GroupObservations>
        {
            ["[\"a\"]"] = Values(1, 2),
            ["[\"b\"]"] = Values(10),
            ["[\"c\"]"] = new GroupObservations(1000),
            ["[\"d\"]"] = Values(5, 5, 5),
        };
        var (top, others) = ExplorerGroups.Rank(totals, "max", 2);
        Assert.Equal(["[\"b\"]", "[\"d\"]"], top);
        Assert.Equal(["[\"a\"]", "[\"c\"]"], others);

        (top, others) = ExplorerGroups.Rank(totals, "count", 10);
        Assert.Equal(["[\"d\"]", "[\"a\"]", "[\"b\"]", "[\"c\"]"], top);
        Assert.Empty(others);
    }

    [Fact]
    public void Series_TopGroupsThenOther_WithOnePointPerStep_AndBucketsOfEveryPoint()
    {
        var cells = new Dictionary<(string, DateTime), GroupObservations>
        {
            [("[\"/a\",\"200\"]", From)] = Values(1, 2, 3),
            [("[\"/a\",\"200\"]", From + Step)] = Values(4),
            [("[\"/b\",\"200\"]", From)] = Values(100),
            [("[\"/c\",\"500\"]", From + Step)] = Values(7, 9),
            [("[\"/d\",\"\"]", From)] = Values(8),
        };
        var query = new ExplorerQuery([], ["route", "status"], "count", 2);
        var (buckets, series) = ExplorerAnswers.Series(cells, query, From, From + 3 * Step, Step, 1000);

        Assert.Equal([From, From + Step, From + 2 * Step], buckets.Select(b => b.Start));
        Assert.Equal([5L, 3L, 0L], buckets.Select(b => b.Count));
        Assert.Equal(100, buckets[0].Max);
        Assert.Null(buckets[2].Average);

        Assert.Equal(["route=/a, status=200", "route=/c, status=500", "other"], series.Select(s => s.Label));
        var a = series[0];
        Assert.Equal(new Dictionary<string, string> { ["route"] = "/a", ["status"] = "200" }, a.Group);
        Assert.Equal((4.0, 4L, false), (a.Total, a.Count, a.Other));
        Assert.Equal([3.0, 1.0, null], a.Points.Select(p => p.Value));
        Assert.Equal([3L, 1L, 0L], a.Points.Select(p => p.Count));

        var other = series[2];
        Assert.Equal((true, 2.0, 2L), (other.Other, other.Total, other.Count));
        Assert.Empty(other.Group);
        Assert.Equal([2.0, null, null], other.Points.Select(p => p.Value));
    }

    [Fact]
    public void Series_WithoutGroupBy_IsOneEntryCalledAll_EvenWhenEmpty()
    {
        var query = new ExplorerQuery([], [], "p95", 10);
        var (_, empty) = ExplorerAnswers.Series([], query, From, From + Step, Step, 1000);
        var all = Assert.Single(empty);
        Assert.Equal(("all", false, (double?)null, 0L), (all.Label, all.Other, all.Total, all.Count));

        var cells = new Dictionary<(string, DateTime), GroupObservations> { [("[]", From)] = Values([.. Enumerable.Range(1, 100).Select(i => (double)i)]) };
        var (_, series) = ExplorerAnswers.Series(cells, query, From, From + Step, Step, 1000);
        Assert.Equal(95.0, Assert.Single(series).Total);
    }

    [Fact]
    public void Breakdown_RanksGroups_AndMergesTheRestIntoOther_Exactly()
    {
        var cells = new Dictionary<(string, DateTime), GroupObservations>
        {
            [("[\"/a\"]", DateTime.MinValue)] = Values(1, 2, 3, 4),
            [("[\"/b\"]", DateTime.MinValue)] = Values(50),
            [("[\"/c\"]", DateTime.MinValue)] = Values(20, 30),
        };
        var groups = ExplorerAnswers.Breakdown(cells, new ExplorerQuery([], ["route"], "p95", 1), 1000);
        Assert.Equal(["route=/b", "other"], groups.Select(g => g.Label));
        var other = groups[1].Aggregate;
        Assert.True(other.Exact);
        Assert.Equal((6L, 60.0, 1.0, 30.0, 30.0), (other.Count, other.Sum, other.Min, other.Max, other.P95));
    }

    [Fact]
    public void Observations_StayExactUpToTheLimit_ThenComeFromTheSketch()
    {
        var small = new GroupObservations(3);
        small.AddValues([3, 1]);
        small.Merge(Values(2));
        Assert.True(small.ToAggregate()!.Exact);
        Assert.Equal(2, small.ToAggregate()!.Median);

        small.AddValues([4]);
        var big = small.ToAggregate()!;
        Assert.False(big.Exact);
        Assert.Equal((4L, 10.0, 1.0, 4.0), (big.Count, big.Sum, big.Min, big.Max));

        var sketched = Values(1);
        sketched.AddSketch(2, 4, 2, 2, [Aggregation.Rollups.LogSketch.KeyOf(2)], [2], 0);
        Assert.False(sketched.ToAggregate()!.Exact);
        Assert.Equal(3, sketched.Count);
    }

    [Fact]
    public void Plan_UsesEachTierOnlyWhereItsRowsFitTheStep()
    {
        var to = new DateTime(2026, 11, 29, 13, 37, 20, DateTimeKind.Utc);
        var week = ExplorerPlan.For(to.AddDays(-7), to, null);
        Assert.Equal(["metric_rollups_tagged_minute", "metric_rollups_tagged_hour", "metric_rollups_tagged_day", "metric_rollups_tagged_hour", "metric_rollups_tagged_minute"],
            week.Rollups.Select(r => r.Table));
        Assert.Equal([(to.AddDays(-7), new DateTime(2026, 11, 22, 13, 38, 0, DateTimeKind.Utc)), (new DateTime(2026, 11, 29, 13, 37, 0, DateTimeKind.Utc), to)], week.Raw);

        var threeHours = ExplorerPlan.For(to.AddDays(-7), to, TimeSpan.FromHours(3));
        Assert.DoesNotContain(threeHours.Rollups, r => r.Table == "metric_rollups_tagged_day");
        // 15-minute steps: whole quarters from quarter rows, the minutes around them from minute rows.
        var quarters = ExplorerPlan.For(to.AddDays(-1), to, TimeSpan.FromMinutes(15));
        Assert.Equal(
            [
                ("metric_rollups_tagged_minute", new DateTime(2026, 11, 28, 13, 38, 0, DateTimeKind.Utc), new DateTime(2026, 11, 28, 13, 45, 0, DateTimeKind.Utc)),
                ("metric_rollups_tagged_quarter", new DateTime(2026, 11, 28, 13, 45, 0, DateTimeKind.Utc), new DateTime(2026, 11, 29, 13, 30, 0, DateTimeKind.Utc)),
                ("metric_rollups_tagged_minute", new DateTime(2026, 11, 29, 13, 30, 0, DateTimeKind.Utc), new DateTime(2026, 11, 29, 13, 37, 0, DateTimeKind.Utc)),
            ],
            quarters.Rollups);
        Assert.Contains(ExplorerPlan.For(to.AddHours(-6), to, TimeSpan.FromMinutes(30)).Rollups, r => r.Table == "metric_rollups_tagged_quarter");
        // No whole quarter inside, or 5-minute steps: minutes only.
        Assert.Equal(["metric_rollups_tagged_minute"], ExplorerPlan.For(to.AddMinutes(-10), to, TimeSpan.FromMinutes(15)).Rollups.Select(r => r.Table).Distinct());
        Assert.Equal(["metric_rollups_tagged_minute"], ExplorerPlan.For(to.AddDays(-1), to, TimeSpan.FromMinutes(5)).Rollups.Select(r => r.Table).Distinct());
        // Stale quarters (changed since they were built) are read from their minutes, adjacent ones as one span.
        var q = (int h, int m) => new DateTime(2026, 11, 29, h, m, 0, DateTimeKind.Utc);
        var mixed = ExplorerPlan.For(q(10, 0), q(12, 0), TimeSpan.FromMinutes(15)).WithStaleQuarters([q(10, 0), q(10, 30), q(10, 45), q(11, 45)]);
        Assert.Equal(
            [
                ("metric_rollups_tagged_minute", q(10, 0), q(10, 15)),
                ("metric_rollups_tagged_quarter", q(10, 15), q(10, 30)),
                ("metric_rollups_tagged_minute", q(10, 30), q(11, 0)),
                ("metric_rollups_tagged_quarter", q(11, 0), q(11, 45)),
                ("metric_rollups_tagged_minute", q(11, 45), q(12, 0)),
            ],
            mixed.Rollups);
        Assert.Same(quarters, quarters.WithStaleQuarters([]));

        var seconds = ExplorerPlan.For(to.AddHours(-1), to, TimeSpan.FromSeconds(30));
        Assert.Empty(seconds.Rollups);
        Assert.Equal([(to.AddHours(-1), to)], seconds.Raw);
    }
}
