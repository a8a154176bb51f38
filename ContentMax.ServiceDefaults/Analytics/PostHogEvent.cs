using System.Text.Json.Nodes;

namespace ContentMax.ServiceDefaults.Analytics;

// One captured event as PostHog's capture and batch APIs take it. The uuid is
// made once, when the event is queued, and sent unchanged on every retry, so
// PostHog keeps one copy however often a batch is re-sent.
public sealed record PostHogEvent(Guid Uuid, string Event, string DistinctId, JsonObject Properties, DateTimeOffset Timestamp)
{
    public JsonObject ToJson() => new()
    {
        ["uuid"] = Uuid.ToString(),
        ["event"] = Event,
        ["distinct_id"] = DistinctId,
        ["properties"] = Properties.DeepClone(),
        ["timestamp"] = Timestamp.ToUniversalTime().ToString("O"),
    };
}
