using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ContentMax.ServiceDefaults.Analytics;

// A flag's value for one user: on or off, and for a multivariate flag the variant.
public readonly record struct FeatureFlagValue(bool Enabled, string? Variant = null)
{
    // Bootstrap values are written "true", "false" or a variant name.
    public static FeatureFlagValue Parse(string? value) => value?.Trim() switch
    {
        null or "" => new(false),
        var v when bool.TryParse(v, out var enabled) => new(enabled),
        var variant => new(true, variant),
    };

    public override string ToString() => Variant ?? (Enabled ? "true" : "false");
}

// Feature flags from POST {Host}/flags?v=2, cached per distinct id for
// FlagsCacheTtl. The bootstrap values answer when PostHog is not configured,
// unreachable, slow (FlagsTimeout) or failing, and for flags PostHog does not know.
public sealed class PostHogFeatureFlags
{
    // A failed lookup is retried sooner than a successful one is refreshed.
    private static readonly TimeSpan FailureCacheTtl = TimeSpan.FromSeconds(5);
    private const int MaxCachedUsers = 10_000;

    private readonly PostHogOptions _options;
    private readonly PostHogApi _api;
    private readonly ILogger<PostHogFeatureFlags> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (DateTimeOffset Expires, IReadOnlyDictionary<string, FeatureFlagValue> Flags)> _cache = new(StringComparer.Ordinal);
    private long _lastFailureLogTicks;

    public PostHogFeatureFlags(PostHogOptions options, PostHogApi api, ILogger<PostHogFeatureFlags> logger, TimeProvider time)
    {
        _options = options;
        _api = api;
        _logger = logger;
        _time = time;
        Bootstrap = options.BootstrapFlags.ToFrozenDictionary(f => f.Key, f => FeatureFlagValue.Parse(f.Value), StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, FeatureFlagValue> Bootstrap { get; }

    public async Task<IReadOnlyDictionary<string, FeatureFlagValue>> GetAsync(string distinctId, CancellationToken cancellationToken = default)
    {
        if (!_options.Enabled)
        {
            return Bootstrap;
        }

        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(distinctId, out var cached) && cached.Expires > now)
        {
            return cached.Flags;
        }

        var fetched = await FetchAsync(distinctId, cancellationToken).ConfigureAwait(false);
        var flags = fetched is null ? Bootstrap : Merge(fetched);
        var ttl = fetched is null ? (FailureCacheTtl < _options.FlagsCacheTtl ? FailureCacheTtl : _options.FlagsCacheTtl) : _options.FlagsCacheTtl;

        if (_cache.Count >= MaxCachedUsers)
        {
            foreach (var (key, entry) in _cache)
            {
                if (entry.Expires <= now)
                {
                    _cache.TryRemove(key, out _);
                }
            }

            if (_cache.Count >= MaxCachedUsers)
            {
                _cache.Clear();
            }
        }

        _cache[distinctId] = (now + ttl, flags);
        return flags;
    }

    // Accepts the v2 shape {"flags": {"name": {"enabled": true, "variant": "b"}}}
    // and the older {"featureFlags": {"name": true | "variant"}}. null when neither.
    public static Dictionary<string, FeatureFlagValue>? ParseResponse(JsonNode? response)
    {
        if (response is not JsonObject root)
        {
            return null;
        }

        if (root["flags"] is JsonObject flags)
        {
            var result = new Dictionary<string, FeatureFlagValue>(StringComparer.Ordinal);
            foreach (var (name, detail) in flags)
            {
                var enabled = detail?["enabled"] is JsonValue e && e.TryGetValue<bool>(out var on) && on;
                var variant = detail?["variant"] is JsonValue v && v.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
                result[name] = new FeatureFlagValue(enabled, enabled ? variant : null);
            }

            return result;
        }

        if (root["featureFlags"] is JsonObject legacy)
        {
            var result = new Dictionary<string, FeatureFlagValue>(StringComparer.Ordinal);
            foreach (var (name, value) in legacy)
            {
                result[name] = value is JsonValue json && json.TryGetValue<string>(out var variant)
                    ? new FeatureFlagValue(true, variant)
                    : new FeatureFlagValue(value is JsonValue b && b.TryGetValue<bool>(out var on) && on);
            }

            return result;
        }

        return null;
    }

    private Dictionary<string, FeatureFlagValue> Merge(Dictionary<string, FeatureFlagValue> fetched)
    {
        var merged = new Dictionary<string, FeatureFlagValue>(Bootstrap, StringComparer.Ordinal);
        foreach (var (name, value) in fetched)
        {
            merged[name] = value;
        }

        return merged;
    }

    private async Task<Dictionary<string, FeatureFlagValue>?> FetchAsync(string distinctId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.FlagsTimeout);
        string failure;
        try
        {
            using var response = await _api.PostFlagsAsync(distinctId, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                if (ParseResponse(JsonNode.Parse(body)) is { } flags)
                {
                    return flags;
                }

                failure = "an unrecognised response";
            }
            else
            {
                failure = $"HTTP {(int)response.StatusCode}";
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = "a timeout";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            failure = e.Message;
        }

        // At most once a minute: a PostHog outage must not flood the logs.
        var nowTicks = _time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastFailureLogTicks);
        if (nowTicks - last >= TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _lastFailureLogTicks, nowTicks, last) == last)
        {
            _logger.LogWarning("PostHog feature flags unavailable ({Failure}); using the bootstrap values.", failure);
        }

        return null;
    }
}
