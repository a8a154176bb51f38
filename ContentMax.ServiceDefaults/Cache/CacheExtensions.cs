using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ContentMax.ServiceDefaults.Cache;

// The AppHost's Redis ("cache"): the query cache, the health-probe's cache check,
// and the per-key rate limits that replicas share. It is optional: while Redis is
// down (or not yet up) the service stays healthy and starts, and each instance
// enforces the rate limits on its own.
public static class CacheExtensions
{
    public const string ConnectionName = "cache";

    public static TBuilder AddCache<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddRedisClient(ConnectionName, settings => settings.DisableHealthChecks = true, options => options.AbortOnConnectFail = false);
        // Replaces the per-instance store AddApiKeyAuthentication registers, whichever comes first.
        builder.Services.Replace(ServiceDescriptor.Singleton<IRateLimitStore, RedisRateLimitStore>());
        return builder;
    }
}
