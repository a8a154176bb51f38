namespace ContentMax.ServiceDefaults.RateLimiting;

// The store of a service without a shared one (AddCache registers Redis): it is
// never available, so each instance counts its own windows.
public sealed class InstanceRateLimitStore : IRateLimitStore
{
    public bool IsAvailable => false;

    public Task<long> ReserveAsync(string counter, long want, long limit, TimeSpan expiry, CancellationToken cancellationToken) =>
        throw new RateLimitStoreUnavailableException("No shared rate-limit store is configured.");
}
