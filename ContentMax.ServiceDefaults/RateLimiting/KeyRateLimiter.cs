using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults.RateLimiting;

// Fixed-window rate limits per API key, shared by every replica without a Redis
// round trip per request. Each instance reserves a slice of a key's window
// (RateLimits:ReserveFraction of the limit) from the shared counter and serves
// requests from that slice in memory; it reserves the next slice before the
// current one runs out. Redis never grants more than the limit, so the replicas
// together cannot exceed it; at most a few slices sit unused in idle replicas.
//
// When Redis is unreachable, each instance counts on its own against the full
// limit: ingestion keeps working, and N replicas allow up to N times the limit.
public sealed class KeyRateLimiter(
    IRateLimitStore store,
    IOptionsMonitor<RateLimitOptions> options,
    TimeProvider time,
    ILogger<KeyRateLimiter> logger,
    IMeterFactory? meterFactory = null)
{
    public const string RejectedName = "contentmax.ratelimit.rejected";

    // From the host's IMeterFactory; a meter of its own only when built outside a host.
    private readonly Counter<long> _rejected = (meterFactory?.Create(ContentMaxTelemetry.MeterName) ?? new Meter(ContentMaxTelemetry.MeterName))
        .CreateCounter<long>(RejectedName, "{request}", "Requests answered 429, by API key name and limit kind");
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Key, RateLimitKind Kind), Bucket> _buckets = new();
    private int _perInstance;

    // True while the limits are counted per instance because Redis is unreachable.
    public bool PerInstance => Volatile.Read(ref _perInstance) == 1;

    public ValueTask<RateLimitDecision> AcquireAsync(string keyName, string role, RateLimitKind kind, long count, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled || count <= 0 || settings.LimitFor(keyName, role, kind) is not { } perSecond)
        {
            return ValueTask.FromResult(RateLimitDecision.Unlimited);
        }

        var window = WindowFor(settings, perSecond, time.GetUtcNow());
        if (count > window.Limit)
        {
            // Can never fit in a window: say so rather than let the client retry forever.
            return ValueTask.FromResult(Reject(keyName, kind, window, count, tooLarge: true));
        }

        var bucket = _buckets.GetOrAdd((keyName, kind), static _ => new Bucket());
        lock (bucket)
        {
            bucket.Roll(window.Id);
            if (bucket.Reserved >= count)
            {
                bucket.Take(count);
                if (bucket.Reserved < window.Slice / 2 && !bucket.Exhausted && bucket.Pending is null && store.IsAvailable)
                {
                    // Reserve the next slice before this one runs out, off the request's path.
                    bucket.Pending = ReserveAsync(bucket, keyName, kind, window, window.Slice);
                }

                return ValueTask.FromResult(RateLimitDecision.Allowed(window.PerSecond));
            }

            if (!store.IsAvailable)
            {
                return ValueTask.FromResult(DecideLocally(bucket, keyName, kind, window, count));
            }

            if (bucket.Exhausted)
            {
                return ValueTask.FromResult(Reject(keyName, kind, window, count, tooLarge: false));
            }
        }

        return WaitForReservationAsync(bucket, keyName, role, kind, window, count, cancellationToken);
    }

    private async ValueTask<RateLimitDecision> WaitForReservationAsync(Bucket bucket, string keyName, string role, RateLimitKind kind, Window window, long count,
        CancellationToken cancellationToken)
    {
        // Each round either gets tokens from Redis, learns the window is used up,
        // or learns Redis is unreachable, so this ends after a few rounds even
        // when concurrent requests take the tokens first.
        for (var round = 0; round < 16; round++)
        {
            Task<long> pending;
            lock (bucket)
            {
                if (bucket.Window != window.Id)
                {
                    break; // A new window began while waiting; count this request in it.
                }

                if (bucket.Reserved >= count)
                {
                    bucket.Take(count);
                    return RateLimitDecision.Allowed(window.PerSecond);
                }

                if (bucket.Exhausted)
                {
                    return Reject(keyName, kind, window, count, tooLarge: false);
                }

                if (!store.IsAvailable)
                {
                    return DecideLocally(bucket, keyName, kind, window, count);
                }

                pending = bucket.Pending ??= ReserveAsync(bucket, keyName, kind, window, Math.Max(count - bucket.Reserved, window.Slice));
            }

            if (await pending.WaitAsync(cancellationToken) < 0)
            {
                lock (bucket)
                {
                    return DecideLocally(bucket, keyName, kind, window, count);
                }
            }
        }

        return await AcquireAsync(keyName, role, kind, count, cancellationToken);
    }

    // Asks Redis for `want` more of the window's limit. Returns what was granted,
    // or -1 when Redis did not answer (never throws: prefetches are not awaited).
    private async Task<long> ReserveAsync(Bucket bucket, string keyName, RateLimitKind kind, Window window, long want)
    {
        await Task.Yield(); // Callers hold the bucket's lock; the result is applied under it later.
        var counter = $"contentmax:ratelimit:{keyName}:{kind.ToString().ToLowerInvariant()}:{window.LengthMs}:{window.Id}";
        try
        {
            var granted = await store.ReserveAsync(counter, want, window.Limit, TimeSpan.FromMilliseconds(window.LengthMs * 2), CancellationToken.None);
            lock (bucket)
            {
                if (bucket.Window == window.Id)
                {
                    bucket.Reserved += granted;
                    if (granted < want) bucket.Exhausted = true;
                }

                bucket.Pending = null;
            }

            if (Interlocked.Exchange(ref _perInstance, 0) == 1)
            {
                logger.LogInformation("Rate limits are shared through Redis again.");
            }

            return granted;
        }
        catch (Exception ex)
        {
            lock (bucket)
            {
                bucket.Pending = null;
            }

            EnterPerInstance(ex.InnerException?.GetType().Name ?? ex.GetType().Name);
            return -1;
        }
    }

    private void EnterPerInstance(string reason)
    {
        if (Interlocked.Exchange(ref _perInstance, 1) == 0)
        {
            logger.LogWarning("Rate limits now apply per instance: Redis is unavailable ({Reason}). Each replica allows every key its full limit until Redis is back.",
                reason);
        }
    }

    private RateLimitDecision DecideLocally(Bucket bucket, string keyName, RateLimitKind kind, Window window, long count)
    {
        EnterPerInstance("not connected");
        if (bucket.Used + count <= window.Limit)
        {
            bucket.Used += count;
            return RateLimitDecision.Allowed(window.PerSecond);
        }

        return Reject(keyName, kind, window, count, tooLarge: false);
    }

    private RateLimitDecision Reject(string keyName, RateLimitKind kind, Window window, long count, bool tooLarge)
    {
        _rejected.Add(1, new KeyValuePair<string, object?>("api_key", keyName), new KeyValuePair<string, object?>("kind", kind.ToString().ToLowerInvariant()));
        var bucket = _buckets.GetOrAdd((keyName, kind), static _ => new Bucket());
        var now = time.GetTimestamp();
        if (bucket.LastLogged == 0 || time.GetElapsedTime(bucket.LastLogged, now) >= LogEvery)
        {
            bucket.LastLogged = now;
            logger.LogWarning("API key {ApiKeyName} is over its limit of {Limit} {Kind} per second{TooLarge}; answering 429.",
                keyName, window.PerSecond, kind.ToString().ToLowerInvariant(), tooLarge ? $" (one request carried {count})" : "");
        }

        return new RateLimitDecision(false, tooLarge ? TimeSpan.FromMilliseconds(window.LengthMs) : window.RetryAfter, window.PerSecond, tooLarge);
    }

    private static Window WindowFor(RateLimitOptions settings, double perSecond, DateTimeOffset now)
    {
        var lengthMs = Math.Max(1, (long)settings.Window.TotalMilliseconds);
        var limit = Math.Max(1, (long)Math.Floor(perSecond * lengthMs / 1000.0));
        var nowMs = now.ToUnixTimeMilliseconds();
        var id = nowMs / lengthMs;
        var slice = Math.Max(1, (long)Math.Ceiling(limit * settings.ReserveFraction));
        return new Window(id, lengthMs, limit, slice, perSecond, TimeSpan.FromMilliseconds((id + 1) * lengthMs - nowMs));
    }

    private readonly record struct Window(long Id, long LengthMs, long Limit, long Slice, double PerSecond, TimeSpan RetryAfter);

    // One key's counts in the current window, on this instance. Guarded by its own lock.
    private sealed class Bucket
    {
        public long Window = -1;
        public long Reserved; // granted by Redis, not yet used
        public long Used;     // used on this instance in this window
        public bool Exhausted;
        public Task<long>? Pending;
        public long LastLogged;

        public void Roll(long window)
        {
            if (window <= Window) return;
            Window = window;
            Reserved = 0;
            Used = 0;
            Exhausted = false;
        }

        public void Take(long count)
        {
            Reserved -= count;
            Used += count;
        }
    }
}

public readonly record struct RateLimitDecision(bool IsAllowed, TimeSpan RetryAfter, double LimitPerSecond, bool RequestTooLarge = false)
{
    public static RateLimitDecision Unlimited => new(true, TimeSpan.Zero, 0);

    public static RateLimitDecision Allowed(double limitPerSecond) => new(true, TimeSpan.Zero, limitPerSecond);
}
