using ContentMax.Contracts;

namespace ContentMax.Monitoring.Client;

/// <summary>
/// Carries batches of points to ContentMax. The client calls it from one
/// sender loop, one batch at a time, with at most MaxPointsPerRequest points
/// that already passed <see cref="MetricRules"/>; every point has a stable
/// <see cref="MetricPoint.Id"/> that is kept when the batch is sent again, so
/// the server stores each point at most once. Register one with
/// <see cref="ContentMaxMonitoringBuilderExtensions.AddTransport{TTransport}"/>.
/// </summary>
public interface IMetricsTransport
{
    /// <summary>
    /// Sends one batch and says what became of it. An exception is treated as
    /// a failure worth retrying; the token is cancelled when the attempt times out.
    /// </summary>
    Task<DeliveryResult> SendAsync(IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken);
}

/// <summary>What became of a batch.</summary>
public enum DeliveryStatus
{
    /// <summary>The server has the points.</summary>
    Delivered,

    /// <summary>The server is unavailable, overloaded or unreachable: send the same batch again later.</summary>
    Retry,

    /// <summary>The server refused the batch itself; sending it again cannot help, so it is dropped.</summary>
    Rejected,
}

/// <summary>The outcome of one attempt to deliver a batch.</summary>
/// <param name="Status">Delivered, retry later, or rejected.</param>
/// <param name="Detail">Why, for logs: "HTTP 503", "connection refused", the server's problem text.</param>
/// <param name="RetryAfter">How long the server asked the client to wait, when it said.</param>
public sealed record DeliveryResult(DeliveryStatus Status, string Detail, TimeSpan? RetryAfter = null)
{
    /// <summary>The batch was delivered.</summary>
    public static DeliveryResult Delivered { get; } = new(DeliveryStatus.Delivered, "delivered");

    /// <summary>Send the batch again later, after <paramref name="retryAfter"/> when the server said.</summary>
    public static DeliveryResult Retry(string detail, TimeSpan? retryAfter = null) => new(DeliveryStatus.Retry, detail, retryAfter);

    /// <summary>The server refused the batch; it is dropped.</summary>
    public static DeliveryResult Rejected(string detail) => new(DeliveryStatus.Rejected, detail);
}
