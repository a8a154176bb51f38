using ContentMax.Alerting.Rules;

namespace ContentMax.Alerting.Evaluation;

// What alerting reads from the metrics it judges, over a window ending at
// `to`: an aggregate (count, sum, min, max, avg, median, p75, p95, p99) of the
// observations a selector picks, null when there are none; and how many
// observations it picks (a histogram point counts as many as it stands for).
// The host that stores the metrics provides it (aggregation, from its rollups
// and raw rows), so alerting knows nothing of how they are stored.
public interface IMetricSignals
{
    Task<double?> AggregateAsync(MetricSelector selector, string aggregate, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    Task<long> CountAsync(MetricSelector selector, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}
