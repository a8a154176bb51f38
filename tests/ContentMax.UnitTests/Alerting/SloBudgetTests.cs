using ContentMax.Alerting.Slos;

namespace ContentMax.UnitTests.Alerting;

// Worked examples of the error budget chart: cumulative from the window's start.
public class SloBudgetTests
{
    private static readonly DateTimeOffset From = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Budget_IsUntouchedWithoutErrors_AndRepeatsThroughQuietSteps()
    {
        var steps = new List<(DateTimeOffset, long, long)> { (From, 1000, 1000) };

        var points = SloTracker.Budget(steps, From, TimeSpan.FromHours(12), From.AddDays(2), 0.999);

        Assert.Equal(5, points.Count);
        Assert.All(points, p => Assert.Equal(1, p.BudgetRemaining, 12));
        Assert.All(points, p => Assert.Equal(1000, p.Total));
    }

    [Fact]
    public void Budget_IsSpentAsErrorsAccumulate()
    {
        // 99.9% of 10,000 events allows 10 bad ones: 5 bad is half the budget, 20 bad is twice it.
        var steps = new List<(DateTimeOffset, long, long)>
        {
            (From, 4995, 5000),
            (From.AddHours(12), 4985, 5000),
        };

        var points = SloTracker.Budget(steps, From, TimeSpan.FromHours(12), From.AddHours(24), 0.999);

        Assert.Equal(0.0, points[0].BudgetRemaining, 9);       // 5 bad of 5000: the whole budget of that volume
        Assert.Equal(-1.0, points[1].BudgetRemaining, 9);      // 20 bad of 10,000: twice the budget
        Assert.Equal(0.998, points[1].Sli, 12);
        Assert.Equal(From.AddHours(24), points[^1].At);
    }
}
