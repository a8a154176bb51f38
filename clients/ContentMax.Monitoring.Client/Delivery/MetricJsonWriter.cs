using System.Buffers;
using System.Text.Json;
using ContentMax.Contracts;

namespace ContentMax.Monitoring.Client.Delivery;

// The body of POST /api/metrics: a JSON array of points in the form the
// ingestion API's MetricRequestParser reads. A plain point is
//   {"metric","value","timestamp","tags","id"}
// and one that stands for many observations is
//   {"metric","timestamp","tags","id","count","sum","min","max","buckets":{"bounds","counts"}}
// (no "value": the server takes sum as the point's value). The client always
// sends its ids, so a batch sent again stores nothing twice.
internal static class MetricJsonWriter
{
    public static byte[] Write(IReadOnlyList<MetricPoint> points, int start = 0, int count = -1)
    {
        if (count < 0) count = points.Count - start;
        var buffer = new ArrayBufferWriter<byte>(count * 256 + 16);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            json.WriteStartArray();
            for (var i = start; i < start + count; i++) WritePoint(json, points[i]);
            json.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WritePoint(Utf8JsonWriter json, MetricPoint point)
    {
        json.WriteStartObject();
        json.WriteString("metric"u8, point.Metric);
        json.WriteNumber("timestamp"u8, point.Timestamp);
        json.WriteString("id"u8, point.Id);
        if (point.Tags is { Count: > 0 } tags)
        {
            json.WriteStartObject("tags"u8);
            foreach (var (key, value) in tags) json.WriteString(key, value);
            json.WriteEndObject();
        }

        if (point.Distribution is not { } d)
        {
            json.WriteNumber("value"u8, point.Value);
            json.WriteEndObject();
            return;
        }

        json.WriteNumber("count"u8, d.Count);
        json.WriteNumber("sum"u8, point.Value);
        if (d.Min is { } min) json.WriteNumber("min"u8, min);
        if (d.Max is { } max) json.WriteNumber("max"u8, max);
        if (d.Bounds.Length > 0)
        {
            json.WriteStartObject("buckets"u8);
            json.WriteStartArray("bounds"u8);
            foreach (var bound in d.Bounds) json.WriteNumberValue(bound);
            json.WriteEndArray();
            json.WriteStartArray("counts"u8);
            foreach (var n in d.BucketCounts) json.WriteNumberValue(n);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}
