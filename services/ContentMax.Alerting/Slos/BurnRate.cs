namespace ContentMax.Alerting.Slos;

// Error budgets and multi-window, multi-burn-rate alerts (Google SRE workbook).
// The burn rate over a window is the error ratio in that window divided by the
// error budget (1 - objective): at 1x the budget lasts exactly the SLO window.
public static class BurnRate
{
    public sealed record Window(TimeSpan Long, TimeSpan Short, double Rate, string Severity);

    // Fire only while both windows burn faster than the rate.
    public static readonly Window[] AlertWindows =
    [
        new(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5), 14.4, "page"),
        new(TimeSpan.FromHours(6), TimeSpan.FromMinutes(30), 6, "page"),
        new(TimeSpan.FromDays(3), TimeSpan.FromHours(6), 1, "ticket"),
    ];

    // The windows the API and dashboard report burn rates for.
    public static readonly TimeSpan[] ReportedWindows =
        [TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(6), TimeSpan.FromDays(3)];

    public static double ErrorBudget(double objective)
    {
        if (objective is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(objective), "The objective must be between 0 and 1, e.g. 0.999.");
        return 1 - objective;
    }

    // The good fraction of events; 1 when there were none.
    public static double Sli(long good, long total) => total == 0 ? 1 : (double)good / total;

    public static double Rate(long good, long total, double objective) =>
        total == 0 ? 0 : (1 - Sli(good, total)) / ErrorBudget(objective);

    // Share of the window's error budget still unspent: 1 untouched, 0 spent,
    // negative when overspent.
    public static double BudgetRemaining(long good, long total, double objective) =>
        1 - (1 - Sli(good, total)) / ErrorBudget(objective);

    public static bool Fires(Window window, double longRate, double shortRate) =>
        longRate > window.Rate && shortRate > window.Rate;
}
