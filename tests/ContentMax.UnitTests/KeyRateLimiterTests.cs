using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ContentMax.UnitTests;

public class KeyRateLimiterTests
{
    // Whole seconds, so each test starts at the beginning of a window.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    private static RateLimitOptions Options(Action<RateLimitOptions>? configure = null)
    {
        var options = new RateLimitOptions();
        options.Keys["limited"] = new RateLimit { RequestsPerSecond = 20, MetricsPerSecond = 1000 };
        configure?.Invoke(options);
        return options;
    }

    private KeyRateLimiter Limiter(IRateLimitStore store, RateLimitOptions? options = null) =>
        new(store, new StaticMonitor<RateLimitOptions>(options ?? Options()), _time, NullLogger<KeyRateLimiter>.Instance);

    private static async Task<int> AllowedAsync(KeyRateLimiter limiter, int attempts, RateLimitKind kind = RateLimitKind.Requests, long count = 1, string key = "limited")
    {
        var allowed = 0;
        for (var i = 0; i < attempts; i++)
        {
            if ((await limiter.AcquireAsync(key, ApiRoles.Ingest, kind, count, CancellationToken.None)).IsAllowed) allowed++;
        }

        return allowed;
    }

    [Fact]
    public async Task AKey_GetsExactlyItsLimitPerWindow_ThenA429WithTheTimeLeftInTheWindow()
    {
        var limiter = Limiter(new MemoryStore());
        _time.Advance(TimeSpan.FromMilliseconds(300));

        Assert.Equal(20, await AllowedAsync(limiter, 30));
        var rejected = await limiter.AcquireAsync("limited", ApiRoles.Ingest, RateLimitKind.Requests, 1, CancellationToken.None);
        Assert.False(rejected.IsAllowed);
        Assert.Equal(TimeSpan.FromMilliseconds(700), rejected.RetryAfter);
        Assert.Equal(20, rejected.LimitPerSecond);

        _time.Advance(TimeSpan.FromMilliseconds(700));
        Assert.Equal(20, await AllowedAsync(limiter, 30));
    }

    [Fact]
    public async Task Replicas_SharingAStore_TogetherStayWithinTheLimit()
    {
        var store = new MemoryStore();
        var replicas = Enumerable.Range(0, 3).Select(_ => Limiter(store)).ToArray();

        var allowed = 0;
        for (var i = 0; i < 40; i++)
        {
            foreach (var replica in replicas)
            {
                if ((await replica.AcquireAsync("limited", ApiRoles.Ingest, RateLimitKind.Requests, 1, CancellationToken.None)).IsAllowed) allowed++;
            }
        }

        Assert.Equal(20, allowed);
        // One reservation per slice (10% of the limit), not one per request.
        Assert.InRange(store.Calls, 10, 20);
    }

    [Fact]
    public async Task WithTheStoreDown_EachInstanceEnforcesTheWholeLimitOnItsOwn()
    {
        var store = new MemoryStore { Available = false };
        var a = Limiter(store);
        var b = Limiter(store);

        Assert.Equal(20, await AllowedAsync(a, 30));
        Assert.Equal(20, await AllowedAsync(b, 30));
        Assert.True(a.PerInstance);
        Assert.Equal(0, store.Calls);
    }

    [Fact]
    public async Task AStoreThatStopsAnswering_FallsBackToPerInstance_AndSharingResumesWhenItIsBack()
    {
        var store = new MemoryStore();
        var limiter = Limiter(store);
        Assert.Equal(5, await AllowedAsync(limiter, 5));

        store.Failing = true;
        Assert.Equal(15, await AllowedAsync(limiter, 30));
        Assert.True(limiter.PerInstance);

        store.Failing = false;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(20, await AllowedAsync(limiter, 30));
        Assert.False(limiter.PerInstance);
    }

    [Fact]
    public async Task Metrics_AreCountedByTheirNumber_AndABatchBiggerThanTheWindowIsRefusedAsTooLarge()
    {
        var limiter = Limiter(new MemoryStore());

        Assert.Equal(10, await AllowedAsync(limiter, 12, RateLimitKind.Metrics, count: 100));

        _time.Advance(TimeSpan.FromSeconds(1));
        var tooLarge = await limiter.AcquireAsync("limited", ApiRoles.Ingest, RateLimitKind.Metrics, 1001, CancellationToken.None);
        Assert.False(tooLarge.IsAllowed);
        Assert.True(tooLarge.RequestTooLarge);
        Assert.Equal(10, await AllowedAsync(limiter, 12, RateLimitKind.Metrics, count: 100));
    }

    [Fact]
    public async Task RoleDefaultsApply_KeyOverridesWin_ZeroMeansUnlimited_AndDisabledLimitsNothing()
    {
        var options = Options(o =>
        {
            o.Roles[ApiRoles.Ingest] = new RateLimit { RequestsPerSecond = 5 };
            o.Keys["unlimited"] = new RateLimit { RequestsPerSecond = 0 };
        });
        var limiter = Limiter(new MemoryStore(), options);

        Assert.Equal(5, await AllowedAsync(limiter, 10, key: "another"));
        Assert.Equal(20, await AllowedAsync(limiter, 30, key: "limited"));
        Assert.Equal(100, await AllowedAsync(limiter, 100, key: "unlimited"));
        Assert.Equal(100, await AllowedAsync(limiter, 100, RateLimitKind.Metrics, key: "another"));

        options.Enabled = false;
        Assert.Equal(100, await AllowedAsync(limiter, 100, key: "another"));
    }

    [Fact]
    public async Task ConcurrentRequests_OnOneInstance_NeverExceedTheLimit()
    {
        var store = new MemoryStore { Delay = TimeSpan.FromMilliseconds(1) };
        // The store answers asynchronously (real delays) while the window stays put (fake clock).
        var limiter = Limiter(store);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ =>
            limiter.AcquireAsync("limited", ApiRoles.Ingest, RateLimitKind.Requests, 1, CancellationToken.None).AsTask()));

        Assert.Equal(20, results.Count(r => r.IsAllowed));
    }

    // The Redis script's rules, in memory: grant up to the limit, never past it.
    private sealed class MemoryStore : IRateLimitStore
    {
        private readonly Dictionary<string, long> _counters = [];

        public bool Available { get; set; } = true;
        public bool Failing { get; set; }
        public TimeSpan Delay { get; set; }
        public int Calls { get; private set; }

        public bool IsAvailable => Available && !Failing;

        public async Task<long> ReserveAsync(string counter, long want, long limit, TimeSpan expiry, CancellationToken cancellationToken)
        {
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
            lock (_counters)
            {
                Calls++;
                if (Failing) throw new RateLimitStoreUnavailableException("down");
                var current = _counters.GetValueOrDefault(counter);
                var grant = Math.Max(0, Math.Min(want, limit - current));
                _counters[counter] = current + grant;
                return grant;
            }
        }
    }

}
