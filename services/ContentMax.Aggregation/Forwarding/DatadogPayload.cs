using System.Buffers;
using System.Text.Json;

namespace ContentMax.Aggregation.Forwarding;

// A point as it waits in the outbox.
public sealed record OutboxPoint(string M, long T, double V, string[]? G);

// Builds POST /api/v2/series bodies: points grouped into series by metric and
// tags, each body at most MaxBytes (Datadog's limit is 512,000 bytes), never
// splitting one point across bodies.
public static class DatadogPayload
{
    public const int MaxBytes = 512_000;
    public const int GaugeType = 3;

    public static List<byte[]> Build(IEnumerable<OutboxPoint> points, IReadOnlyList<string> commonTags, int maxBytes = MaxBytes)
    {
        var bodies = new List<byte[]>();
        var series = points
            .GroupBy(p => (p.M, Tags: string.Join('\u0001', p.G ?? [])))
            .Select(g => (Metric: "contentmax." + g.Key.M, Tags: (g.First().G ?? []).Concat(commonTags).ToArray(), Points: g.OrderBy(p => p.T).ToList()));

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new Utf8JsonWriter(buffer);
        var open = false;

        void Start()
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            writer.WriteStartObject();
            writer.WriteStartArray("series");
            open = true;
        }

        void Finish()
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            bodies.Add(buffer.WrittenSpan.ToArray());
            open = false;
        }

        foreach (var s in series)
        {
            foreach (var chunk in Chunk(s.Points, s.Metric, s.Tags, maxBytes))
            {
                var encoded = SeriesJson(s.Metric, s.Tags, chunk);
                if (!open) Start();
                writer.Flush();
                // 2 bytes close the array and object, 1 separates series.
                if (buffer.WrittenCount + encoded.Length + 3 > maxBytes && buffer.WrittenCount > "{\"series\":[".Length)
                {
                    Finish();
                    Start();
                }

                writer.WriteRawValue(encoded, skipInputValidation: true);
            }
        }

        if (open) Finish();
        return bodies;
    }

    // A series whose points alone exceed the limit is cut into several.
    private static IEnumerable<List<OutboxPoint>> Chunk(List<OutboxPoint> points, string metric, string[] tags, int maxBytes)
    {
        var overhead = SeriesJson(metric, tags, []).Length + 64;
        var chunk = new List<OutboxPoint>();
        var size = overhead;
        foreach (var point in points)
        {
            const int pointSize = 72; // {"timestamp":<20 chars>,"value":<24 chars>}, at most
            if (size + pointSize > maxBytes && chunk.Count > 0)
            {
                yield return chunk;
                chunk = [];
                size = overhead;
            }

            chunk.Add(point);
            size += pointSize;
        }

        if (chunk.Count > 0) yield return chunk;
    }

    private static byte[] SeriesJson(string metric, string[] tags, List<OutboxPoint> points)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteString("metric", metric);
        writer.WriteNumber("type", GaugeType);
        writer.WriteStartArray("points");
        foreach (var p in points)
        {
            writer.WriteStartObject();
            writer.WriteNumber("timestamp", p.T);
            writer.WriteNumber("value", p.V);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("tags");
        foreach (var tag in tags) writer.WriteStringValue(tag);
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
