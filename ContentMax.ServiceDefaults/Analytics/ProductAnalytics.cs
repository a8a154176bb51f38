using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Logging;

namespace ContentMax.ServiceDefaults.Analytics;

// Server-side product analytics, with one typed method per helper of the web
// app's `analytics` object and the same event and property names, so events
// from browsers and services land in PostHog side by side. The server has no
// ambient user, so every call names its distinct id.
//
// Capturing never blocks and never throws for delivery reasons: events are
// queued and sent in batches by PostHogBatcher (see PostHogMetrics for what
// was sent, retried or dropped). Invalid arguments (an empty distinct id, a
// malformed currency) are programming errors and throw ArgumentException.
// Without PostHog:ProjectApiKey nothing is sent and flags come from bootstrap.
public sealed partial class ProductAnalytics
{
    public const string PageViewEvent = "$pageview";
    public const string IdentifyEvent = "$identify";
    public const string SetEvent = "$set";
    public const string ExperimentViewedEvent = "$experiment_viewed";
    public const string FeatureFlagCalledEvent = "$feature_flag_called";
    public const string OpportunityScoredEvent = "opportunity_scored";
    public const string RevenueEvent = "revenue";
    public const string FeatureUsedEvent = "feature_used";
    public const string SearchEvent = "search";
    public const string ErrorOccurredEvent = "error_occurred";
    public const string PerformanceMetricEvent = "performance_metric";

    private const int MaxReportedFlagCalls = 10_000;

    private readonly PostHogOptions _options;
    private readonly PostHogBatcher? _batcher;
    private readonly PostHogFeatureFlags _flags;
    private readonly PostHogMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ProductAnalytics> _logger;
    private readonly KeyValuePair<string, JsonNode?>[] _superProperties;
    private readonly ConcurrentDictionary<(string DistinctId, string Flag, string Value), byte> _reportedFlagCalls = new();

    public ProductAnalytics(
        PostHogOptions options,
        PostHogBatcher? batcher,
        PostHogFeatureFlags flags,
        PostHogMetrics metrics,
        ServiceIdentity identity,
        TimeProvider time,
        ILogger<ProductAnalytics> logger)
    {
        _options = options;
        _batcher = options.Enabled ? batcher : null;
        _flags = flags;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _superProperties =
        [
            new("app_version", identity.Version),
            new("environment", options.Environment is { Length: > 0 } environment ? environment : identity.Environment),
            new("service", identity.Name),
            new("$lib", "contentmax-dotnet"),
            new("$lib_version", identity.Version),
        ];
    }

    public bool Enabled => _batcher is not null;

    public bool PageView(string distinctId, string pageName, IReadOnlyDictionary<string, object?>? properties = null) =>
        Capture(distinctId, PageViewEvent, () => Properties(properties, ("page_name", pageName)));

    public bool Track(string distinctId, string eventName, IReadOnlyDictionary<string, object?>? properties = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        return Capture(distinctId, eventName, () => Properties(properties));
    }

    public bool ScoreOpportunity(string distinctId, string nodeId, double score, object? factors = null)
    {
        RequireFinite(score, nameof(score));
        return Capture(distinctId, OpportunityScoredEvent,
            () => Properties(null, ("node_id", nodeId), ("score", score), ("factors", factors), ("timestamp", Now())));
    }

    // amount in the currency's units; currency an ISO 4217 code such as USD or EUR.
    public bool TrackRevenue(string distinctId, decimal amount, string currency = "USD", IReadOnlyDictionary<string, object?>? properties = null)
    {
        if (currency is null || !CurrencyCode().IsMatch(currency))
        {
            throw new ArgumentException($"'{currency}' is not an ISO 4217 currency code (three capital letters such as USD).", nameof(currency));
        }

        return Capture(distinctId, RevenueEvent, () => Properties(properties, ("amount", amount), ("currency", currency)));
    }

    public bool FeatureUsed(string distinctId, string feature, IReadOnlyDictionary<string, object?>? properties = null) =>
        Capture(distinctId, FeatureUsedEvent, () => Properties(properties, ("feature_name", feature)));

    public bool Search(string distinctId, string query, int resultsCount, object? filters = null) =>
        Capture(distinctId, SearchEvent,
            () => Properties(null, ("query", query), ("results_count", resultsCount), ("filters", filters), ("timestamp", Now())));

    public bool TrackError(string distinctId, string error, object? context = null) =>
        Capture(distinctId, ErrorOccurredEvent,
            () => Properties(null, ("error_message", error), ("context", context), ("timestamp", Now())));

    public bool TrackPerformance(string distinctId, string metric, double value, object? tags = null)
    {
        RequireFinite(value, nameof(value));
        return Capture(distinctId, PerformanceMetricEvent,
            () => Properties(null, ("metric_name", metric), ("value", value), ("tags", tags), ("timestamp", Now())));
    }

    public bool ExperimentViewed(string distinctId, string experiment, string variant) =>
        Capture(distinctId, ExperimentViewedEvent,
            () => Properties(null, ("experiment_name", experiment), ("variant", variant), ("timestamp", Now())));

    // Links a person to their properties (and, with anonymousId, to the events
    // they sent before signing in).
    public bool Identify(string distinctId, IReadOnlyDictionary<string, object?>? properties = null, string? anonymousId = null) =>
        Capture(distinctId, IdentifyEvent,
            () => Properties(null, ("$set", properties ?? new Dictionary<string, object?>()), ("$anon_distinct_id", anonymousId)));

    public bool SetUserProperties(string distinctId, IReadOnlyDictionary<string, object?> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        return Capture(distinctId, SetEvent, () => Properties(null, ("$set", properties)));
    }

    public async Task<bool> IsFeatureEnabled(string distinctId, string flag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(distinctId);
        ArgumentException.ThrowIfNullOrWhiteSpace(flag);
        var flags = await _flags.GetAsync(distinctId, cancellationToken).ConfigureAwait(false);
        var value = flags.TryGetValue(flag, out var found) ? found : new FeatureFlagValue(false);
        ReportFlagCall(distinctId, flag, value);
        return value.Enabled;
    }

    public Task<IReadOnlyDictionary<string, FeatureFlagValue>> GetFeatureFlags(string distinctId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(distinctId);
        return _flags.GetAsync(distinctId, cancellationToken);
    }

    private bool Capture(string distinctId, string eventName, Func<JsonObject?> buildProperties)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(distinctId);
        if (_batcher is null)
        {
            return false;
        }

        var properties = buildProperties();
        if (properties is null)
        {
            _metrics.AddDropped(1, "unserializable");
            return false;
        }

        foreach (var (name, value) in _superProperties)
        {
            if (!properties.ContainsKey(name))
            {
                properties[name] = value?.DeepClone();
            }
        }

        return _batcher.TryEnqueue(new PostHogEvent(Guid.CreateVersion7(), eventName, distinctId, properties, _time.GetUtcNow()));
    }

    // PostHog counts exposures to a flag from this event; one per user, flag and value is enough.
    private void ReportFlagCall(string distinctId, string flag, FeatureFlagValue value)
    {
        if (_batcher is null)
        {
            return;
        }

        if (_reportedFlagCalls.Count >= MaxReportedFlagCalls)
        {
            _reportedFlagCalls.Clear();
        }

        if (_reportedFlagCalls.TryAdd((distinctId, flag, value.ToString()), 0))
        {
            Capture(distinctId, FeatureFlagCalledEvent, () => new JsonObject
            {
                ["$feature_flag"] = flag,
                ["$feature_flag_response"] = value.Variant is { } variant ? JsonValue.Create(variant) : JsonValue.Create(value.Enabled),
            });
        }
    }

    // Named properties first, then the caller's (which win on a clash, as in
    // the web app's spread). null when a value cannot be turned into JSON.
    private JsonObject? Properties(IReadOnlyDictionary<string, object?>? properties, params (string Name, object? Value)[] named)
    {
        try
        {
            var result = new JsonObject();
            foreach (var (name, value) in named)
            {
                if (value is not null)
                {
                    result[name] = JsonSerializer.SerializeToNode(value);
                }
            }

            foreach (var (name, value) in properties ?? new Dictionary<string, object?>())
            {
                result[name] = JsonSerializer.SerializeToNode(value);
            }

            return result;
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            _logger.LogWarning(e, "PostHog: event properties could not be serialized; the event is dropped.");
            return null;
        }
    }

    private string Now() => _time.GetUtcNow().ToString("O");

    private static void RequireFinite(double value, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be a finite number.");
        }
    }

    [GeneratedRegex("^[A-Z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CurrencyCode();
}
