namespace ContentMax.ServiceDefaults.RateLimiting;

// Where replicas share their window counts (Redis in production).
public interface IRateLimitStore
{
    // False while the store is known to be unreachable: the limiter then decides
    // per instance without waiting for it.
    bool IsAvailable { get; }

    // Adds up to `want` to the window's counter without passing `limit`, and
    // returns how much was granted (0 when the window is used up). Throws
    // RateLimitStoreUnavailableException when the store does not answer in time.
    Task<long> ReserveAsync(string counter, long want, long limit, TimeSpan expiry, CancellationToken cancellationToken);
}

public sealed class RateLimitStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
