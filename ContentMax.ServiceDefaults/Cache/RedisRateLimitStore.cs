using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ContentMax.ServiceDefaults.Cache;

// Window counters in Redis ("cache"), one key per API key, limit kind and
// window, expiring after two windows. One script call reserves a slice: it
// never lets the counter pass the limit, so what it grants is what may be used.
//
// The connection is made in the background: a service must start, and answer,
// while Redis is down. A service without a "cache" connection string counts
// per instance.
public sealed class RedisRateLimitStore : IRateLimitStore
{
    private const string ReserveScript = """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        local grant = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - current)
        if grant <= 0 then return 0 end
        if redis.call('INCRBY', KEYS[1], grant) == grant then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return grant
        """;

    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    private readonly IOptionsMonitor<RateLimitOptions> _options;
    private readonly TimeProvider _time;
    private volatile IConnectionMultiplexer? _redis;
    private long _retryAt;

    public RedisRateLimitStore(IServiceProvider services, IOptionsMonitor<RateLimitOptions> options, TimeProvider time, ILogger<RedisRateLimitStore> logger)
    {
        _options = options;
        _time = time;
        _ = Task.Run(() =>
        {
            try
            {
                _redis = services.GetService<IConnectionMultiplexer>();
                if (_redis is null) logger.LogInformation("No Redis client is registered: rate limits apply per instance.");
            }
            catch (Exception ex)
            {
                logger.LogWarning("Redis is not configured for rate limits ({Error}); they apply per instance.", ex.GetType().Name);
            }
        });
    }

    public bool IsAvailable => _redis is { IsConnected: true } && _time.GetTimestamp() >= Interlocked.Read(ref _retryAt);

    public async Task<long> ReserveAsync(string counter, long want, long limit, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var redis = _redis ?? throw new RateLimitStoreUnavailableException("Redis is not connected.");
        try
        {
            var result = await redis.GetDatabase()
                .ScriptEvaluateAsync(ReserveScript, [counter], [want, limit, (long)expiry.TotalMilliseconds])
                .WaitAsync(_options.CurrentValue.RedisTimeout, _time, cancellationToken);
            return (long)result;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Interlocked.Exchange(ref _retryAt, _time.GetTimestamp() + (long)(RetryAfterFailure.TotalSeconds * _time.TimestampFrequency));
            throw new RateLimitStoreUnavailableException("Redis did not answer.", ex);
        }
    }
}
