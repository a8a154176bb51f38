using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ContentMax.Aggregation.Queries;

// Caches dashboard-sized query results in Redis for a few seconds, so many open
// dashboards (every replica's) cost the database one query per period, not one
// each. Redis is an optimisation only: when it is down or slow, queries go
// straight to Postgres and still answer.
public sealed class QueryCache(IConnectionMultiplexer redis, IOptions<AggregationOptions> options, AggregationMetrics metrics, ILogger<QueryCache> logger)
{
    private static readonly TimeSpan RedisBudget = TimeSpan.FromMilliseconds(250);

    public async Task<T> GetOrCreateAsync<T>(string key, Func<CancellationToken, Task<T>> create, CancellationToken cancellationToken)
    {
        var ttl = options.Value.QueryCacheTtl;
        if (ttl <= TimeSpan.Zero) return await create(cancellationToken);

        var database = redis.GetDatabase();
        var redisKey = new RedisKey("contentmax:query:" + key);
        try
        {
            var cached = await database.StringGetAsync(redisKey).WaitAsync(RedisBudget, cancellationToken);
            if (cached.HasValue)
            {
                metrics.QueryCacheLookups.Add(1, new KeyValuePair<string, object?>("result", "hit"));
                return JsonSerializer.Deserialize<T>((byte[])cached!)!;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            metrics.QueryCacheLookups.Add(1, new KeyValuePair<string, object?>("result", "unavailable"));
            logger.LogDebug("Query cache unavailable: {Error}", ex.GetType().Name);
            return await create(cancellationToken);
        }

        metrics.QueryCacheLookups.Add(1, new KeyValuePair<string, object?>("result", "miss"));
        var value = await create(cancellationToken);
        // Written in the background: a slow Redis must not delay the answer.
        _ = database.StringSetAsync(redisKey, JsonSerializer.SerializeToUtf8Bytes(value), ttl, flags: CommandFlags.FireAndForget);
        return value;
    }
}
