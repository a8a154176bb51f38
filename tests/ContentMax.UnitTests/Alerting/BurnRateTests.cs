using ContentMax.Alerting.Slos;

namespace ContentMax.UnitTests.Alerting;

// Worked examples from the SRE workbook's multi-window, multi-burn-rate alerts.
public class BurnRateTests
{
    [Fact]
    public void ErrorBudget_Of999_IsOneInAThousand() => Assert.Equal(0.001, BurnRate.ErrorBudget(0.999), 12);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1.5)]
    public void ErrorBudget_RejectsImpossibleObjectives(double objective) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BurnRate.ErrorBudget(objective));

    [Fact]
    public void Rate_OnePercentErrorsAgainst999_Is10x() =>
        Assert.Equal(10, BurnRate.Rate(good: 99_000, total: 100_000, objective: 0.999), 9);

    [Fact]
    public void Rate_AtExactlyTheBudget_Is1x() =>
        Assert.Equal(1, BurnRate.Rate(good: 999_000, total: 1_000_000, objective: 0.999), 9);

    [Fact]
    public void Rate_WithNoEvents_IsZero() => Assert.Equal(0, BurnRate.Rate(0, 0, 0.999));

    [Fact]
    public void BurnRate144_For1Hour_Spends2PercentOf30DayBudget()
    {
        // 14.4x for 1h of a 30-day window: 14.4 × 1/720 = 2% of the budget.
        Assert.Equal(0.02, 14.4 * (1.0 / (30 * 24)), 12);
    }

    [Fact]
    public void BudgetRemaining_HalfSpent_AndOverspent()
    {
        Assert.Equal(0.5, BurnRate.BudgetRemaining(good: 999_500, total: 1_000_000, objective: 0.999), 9);
        Assert.Equal(-1, BurnRate.BudgetRemaining(good: 998_000, total: 1_000_000, objective: 0.999), 9);
        Assert.Equal(1, BurnRate.BudgetRemaining(good: 0, total: 0, objective: 0.999));
    }

    [Theory]
    [InlineData(15, 15, true)]   // both windows over 14.4
    [InlineData(15, 2, false)]   // burned an hour ago, recovered now: no page
    [InlineData(2, 20, false)]   // a short spike: no page
    [InlineData(14.4, 15, false)] // exactly at the rate is not over it
    public void PageWindow_FiresOnlyWhileBothWindowsExceedTheRate(double longRate, double shortRate, bool fires) =>
        Assert.Equal(fires, BurnRate.Fires(BurnRate.AlertWindows[0], longRate, shortRate));

    [Fact]
    public void AlertWindows_MatchTheWorkbookTable()
    {
        Assert.Equal(
            [("01:00:00", "00:05:00", 14.4, "page"), ("06:00:00", "00:30:00", 6.0, "page"), ("3.00:00:00", "06:00:00", 1.0, "ticket")],
            BurnRate.AlertWindows.Select(w => (w.Long.ToString(), w.Short.ToString(), w.Rate, w.Severity)));
    }
}
