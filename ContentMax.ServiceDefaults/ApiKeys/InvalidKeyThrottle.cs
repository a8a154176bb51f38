using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;

namespace ContentMax.ServiceDefaults.ApiKeys;

// Limits how many invalid API keys one client address may present per minute
// (RateLimits:InvalidKeysPerMinute, 20): past it, its requests with an invalid
// key are answered 429 with Retry-After, so guessing keys is slow. Valid keys
// from the same address are not affected. Memory stays bounded: only the
// current minute's addresses are kept.
public sealed class InvalidKeyThrottle(IConfiguration configuration, TimeProvider time)
{
    private const int MaxAddresses = 100_000;
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private long _minute;

    public int PerMinute => configuration.GetValue("RateLimits:InvalidKeysPerMinute", 20);

    // Counts one invalid key from `address`; true when the address is over its limit.
    public bool Register(string address)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        if (Interlocked.Exchange(ref _minute, minute) != minute || _counts.Count > MaxAddresses) _counts.Clear();
        return _counts.AddOrUpdate(address, 1, (_, n) => n + 1) > PerMinute;
    }
}
