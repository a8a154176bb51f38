namespace ContentMax.Monitoring.Client;

/// <summary>
/// Records a service's own metrics. Every call is cheap and never throws:
/// observations are aggregated in process per name and tag set and leave as
/// one point per flush interval. An invalid name, tag or value (see the
/// server's rules) is dropped, counted (<c>reason=invalid</c>) and logged once
/// per name. Every point also carries the configured shared tags and
/// <c>service</c>. For the product's KPIs see <see cref="ProductKpis"/>.
/// </summary>
public interface IMetricsPublisher
{
    /// <summary>Records one observation, e.g. <c>Track("db_query_time", 12.5, tags)</c>.</summary>
    /// <param name="name">A letter, then letters, digits, <c>_ . : -</c>; at most 200 characters.</param>
    /// <param name="value">A finite number.</param>
    /// <param name="tags">At most 32 tags with the shared ones; keys up to 100 characters, values up to 200.</param>
    void Track(string name, double value, IReadOnlyDictionary<string, string>? tags = null);

    /// <summary>Records one observation, with tags as pairs: <c>Track("cache_hit", 1, ("cache", "projects"))</c>.</summary>
    /// <param name="name">A letter, then letters, digits, <c>_ . : -</c>; at most 200 characters.</param>
    /// <param name="value">A finite number.</param>
    /// <param name="tags">The point's tags.</param>
    void Track(string name, double value, params ReadOnlySpan<(string Key, string Value)> tags);

    /// <summary>Records <paramref name="count"/> observations of the same value at once.</summary>
    /// <param name="name">The metric name.</param>
    /// <param name="value">The value of each observation.</param>
    /// <param name="count">How many observations, at least 1.</param>
    /// <param name="tags">The point's tags.</param>
    void TrackMany(string name, double value, long count, IReadOnlyDictionary<string, string>? tags = null);

    /// <summary>
    /// Sets a gauge: of the values set within one flush interval only the last
    /// is sent, as a plain point, so "the latest value" reads right.
    /// </summary>
    /// <param name="name">The metric name.</param>
    /// <param name="value">The current value.</param>
    /// <param name="tags">The point's tags.</param>
    void Gauge(string name, double value, IReadOnlyDictionary<string, string>? tags = null);
}
