namespace ContentMax.Alerting.Evaluation;

// The numbers rules compare: an aggregate, a rate or a ratio of observations
// over a window ending now, read through the host's IMetricSignals. Counts are
// observations: a histogram point counts as many as it stands for.
public sealed class AlertSignals(IMetricSignals metrics)
{
    // The value a threshold, rate or ratio rule compares, or null when there
    // is nothing to judge (no points, or fewer than MinEvents for a ratio).
    public async Task<double?> ValueAsync(AlertRule rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var from = now - rule.Window;
        switch (rule.Kind)
        {
            case RuleKinds.Threshold:
                var aggregate = await metrics.AggregateAsync(rule.Select!, rule.Aggregate!, from, now, cancellationToken);
                return aggregate ?? (rule.Aggregate == "count" ? 0 : null);
            case RuleKinds.Rate:
                var count = await metrics.CountAsync(rule.Select!, from, now, cancellationToken);
                return count / (rule.Window / rule.Per);
            case RuleKinds.Ratio:
                var denominator = await metrics.CountAsync(rule.Denominator!, from, now, cancellationToken);
                if (denominator < rule.MinEvents) return null;
                var numerator = await metrics.CountAsync(rule.Numerator!, from, now, cancellationToken);
                return (double)numerator / denominator;
            default:
                throw new ArgumentException($"Rule kind '{rule.Kind}' has no metric value.", nameof(rule));
        }
    }
}
