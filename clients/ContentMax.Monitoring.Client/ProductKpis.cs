using System.Numerics;

namespace ContentMax.Monitoring.Client;

/// <summary>
/// The ContentMax product's business KPIs, as the operators' dashboard reads
/// them (its Business tab).
/// </summary>
public static class ProductKpis
{
    /// <summary>The metric name of scored opportunities; the dashboard shows how many observations it has.</summary>
    public const string OpportunitiesScoredMetric = "opportunities_scored";

    /// <summary>The metric name of calculated revenue; the dashboard shows the sum of its values.</summary>
    public const string RevenueCalculatedMetric = "revenue_calculated";

    /// <summary>The metric name of the number of active projects; the dashboard shows the latest value.</summary>
    public const string ActiveProjectsMetric = "active_projects";

    /// <summary>
    /// <paramref name="count"/> opportunities were scored: <c>opportunities_scored</c>
    /// gets one observation per opportunity, each valued at <paramref name="averageScore"/>
    /// (or 1 when no score is given), so its count is the number scored and its
    /// average the average score.
    /// </summary>
    /// <param name="publisher">The publisher.</param>
    /// <param name="count">How many opportunities were scored; nothing is recorded for 0 or less.</param>
    /// <param name="averageScore">Their average score, when known.</param>
    /// <param name="model">The scoring model, as tag <c>model</c>, when there are several.</param>
    public static void OpportunitiesScored(this IMetricsPublisher publisher, int count, double? averageScore = null, string? model = null)
    {
        if (count <= 0) return;
        publisher.TrackMany(OpportunitiesScoredMetric, averageScore ?? 1, count, model is null ? null : new Dictionary<string, string> { ["model"] = model });
    }

    /// <summary>
    /// Revenue was calculated: one observation of <paramref name="amount"/> in
    /// <c>revenue_calculated</c>, tagged <c>currency</c> (and <c>plan</c> when given).
    /// The dashboard adds the amounts up, so keep to one currency or break the metric down by it.
    /// Any number type works: <c>1200.75m</c>, <c>99.5</c>, <c>100</c>.
    /// </summary>
    /// <typeparam name="TAmount">decimal, double, int or another number type.</typeparam>
    /// <param name="publisher">The publisher.</param>
    /// <param name="amount">The amount.</param>
    /// <param name="currency">An ISO 4217 code; USD unless given.</param>
    /// <param name="plan">The customer's plan, when it matters.</param>
    public static void RevenueCalculated<TAmount>(this IMetricsPublisher publisher, TAmount amount, string currency = "USD", string? plan = null)
        where TAmount : INumberBase<TAmount>
    {
        var tags = new Dictionary<string, string>(2, StringComparer.Ordinal) { ["currency"] = currency };
        if (plan is not null) tags["plan"] = plan;
        publisher.Track(RevenueCalculatedMetric, double.CreateSaturating(amount), tags);
    }

    /// <summary>The number of active projects now: a gauge, <c>active_projects</c>, of which each flush interval sends the last value.</summary>
    /// <param name="publisher">The publisher.</param>
    /// <param name="count">How many projects are active.</param>
    public static void ActiveProjects(this IMetricsPublisher publisher, int count) =>
        publisher.Gauge(ActiveProjectsMetric, count);
}
