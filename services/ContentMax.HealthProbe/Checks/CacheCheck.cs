using StackExchange.Redis;

namespace ContentMax.HealthProbe.Checks;

public sealed class CacheCheck(IConnectionMultiplexer redis) : IHealthProbeCheck
{
    public string Name => "cache";

    public string Group => CheckGroups.Cache;

    public async Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken)
    {
        await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
        return ProbeOutcome.Success;
    }
}
