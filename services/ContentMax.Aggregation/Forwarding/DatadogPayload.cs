using System.Buffers;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ContentMax.Aggregation.Forwarding;

// A point as it waits in the outbox: metric, Unix seconds, value, tags as
// "key:value", and for a point that stands for many observations their count
// (its value is then their sum).
public sealed record OutboxPoint(string M, long T, double V, string[]? G, long? C = null);

// One request for Datadog: where it goes, its JSON, and the points it carries
// (so a body Datadog refuses can be split and sent again in halves).
public sealed record DatadogBody(string Path, byte[] Json, IReadOnlyList<OutboxPoint> Points);

// Builds Datadog's request bodies from outbox points, by the kind of each metric:
// - count: type 1 (count) on /api/v2/series, summed per series and second, with
//   an interval of 1 s, so counts of one second never overwrite each other;
// - gauge: type 3 on /api/v2/series, the last value per series and second;
// - distribution: /api/v1/distribution_points, every value per series and
//   second, so Datadog computes percentiles over them. A point that stands for
//   many observations adds its mean that many times (at most MaxExpanded).
// Tags: only the allowed keys a client sent; env is always ContentMax's own,
// and service is the client's when it sent one, else "contentmax". Bodies stay
// under MaxBytes (Datadog's limit is 512,000 bytes).
public static class DatadogPayload
{
    // A body as sent: JSON, gzip-compressed unless Datadog:Compress is off.
    public static HttpContent Content(byte[] json, bool compress)
    {
        if (!compress)
        {
            var plain = new ByteArrayContent(json);
            plain.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return plain;
        }

        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }

        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    public const int MaxBytes = 512_000;
    public const int MaxExpanded = 10_000;
    public const string SeriesPath = "api/v2/series";
    public const string DistributionPath = "api/v1/distribution_points";

    public static List<DatadogBody> Build(IEnumerable<OutboxPoint> points, DatadogMapping mapping, int maxBytes = MaxBytes)
    {
        var bodies = new List<DatadogBody>();
        var series = new Dictionary<(string Metric, string Tags), Series>();
        foreach (var point in points)
        {
            var tags = mapping.Tags(point.G);
            var key = (point.M, string.Join('\u0001', tags));
            if (!series.TryGetValue(key, out var s)) series[key] = s = new Series("contentmax." + point.M, mapping.KindOf(point.M, point.C is not null), tags);
            s.Add(point);
        }

        foreach (var kind in new[] { DatadogKind.Count, DatadogKind.Gauge })
        {
            bodies.AddRange(Pack(series.Values.Where(s => s.Kind == kind), SeriesPath, maxBytes));
        }

        bodies.AddRange(Pack(series.Values.Where(s => s.Kind == DatadogKind.Distribution), DistributionPath, maxBytes));
        return bodies;
    }

    private static IEnumerable<DatadogBody> Pack(IEnumerable<Series> series, string path, int maxBytes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new Utf8JsonWriter(buffer);
        var carried = new List<OutboxPoint>();
        var open = false;

        foreach (var s in series)
        {
            foreach (var (json, sources) in s.Encode(maxBytes - 64))
            {
                if (open && buffer.WrittenCount + json.Length + 3 > maxBytes)
                {
                    yield return Finish();
                }

                if (!open)
                {
                    buffer.ResetWrittenCount();
                    writer.Reset(buffer);
                    writer.WriteStartObject();
                    writer.WriteStartArray("series");
                    writer.Flush();
                    open = true;
                }

                writer.WriteRawValue(json, skipInputValidation: true);
                writer.Flush();
                carried.AddRange(sources);
            }
        }

        if (open) yield return Finish();

        DatadogBody Finish()
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            var body = new DatadogBody(path, buffer.WrittenSpan.ToArray(), [.. carried]);
            carried.Clear();
            open = false;
            return body;
        }
    }

    // One series: its points per second, folded by the metric's kind.
    private sealed class Series(string metric, DatadogKind kind, string[] tags)
    {
        // One second of the series: the count's sum or the gauge's last value, or
        // a distribution's values, and the outbox points folded into it.
        private sealed class Second
        {
            public double Value;
            public List<double>? Values;
            public readonly List<OutboxPoint> Sources = [];
        }

        private readonly SortedDictionary<long, Second> _seconds = [];
        private readonly int _overhead = 256 + metric.Length + tags.Sum(t => t.Length + 4);

        public DatadogKind Kind => kind;

        public void Add(OutboxPoint p)
        {
            if (!_seconds.TryGetValue(p.T, out var second)) _seconds[p.T] = second = new Second();
            second.Sources.Add(p);
            switch (kind)
            {
                case DatadogKind.Count:
                    second.Value += p.V;
                    break;
                case DatadogKind.Gauge:
                    second.Value = p.C is > 0 ? p.V / p.C.Value : p.V;
                    break;
                default:
                    second.Values ??= [];
                    if (p.C is > 0 and var n)
                    {
                        var mean = p.V / n;
                        for (var i = 0; i < Math.Min(n, MaxExpanded); i++) second.Values.Add(mean);
                    }
                    else
                    {
                        second.Values.Add(p.V);
                    }

                    break;
            }
        }

        // The series as JSON, cut into pieces under maxBytes, each with the points it carries.
        public IEnumerable<(byte[] Json, List<OutboxPoint> Sources)> Encode(int maxBytes)
        {
            var piece = new List<KeyValuePair<long, Second>>();
            var size = _overhead;
            foreach (var second in _seconds)
            {
                var pointSize = 64 + (second.Value.Values?.Count ?? 0) * 26;
                if (piece.Count > 0 && size + pointSize > maxBytes)
                {
                    yield return Json(piece);
                    piece.Clear();
                    size = _overhead;
                }

                piece.Add(second);
                size += pointSize;
            }

            if (piece.Count > 0) yield return Json(piece);
        }

        private (byte[], List<OutboxPoint>) Json(List<KeyValuePair<long, Second>> seconds)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStartObject();
            writer.WriteString("metric", metric);
            if (kind == DatadogKind.Distribution)
            {
                writer.WriteStartArray("points");
                foreach (var (t, second) in seconds)
                {
                    writer.WriteStartArray();
                    writer.WriteNumberValue(t);
                    writer.WriteStartArray();
                    foreach (var v in second.Values!) writer.WriteNumberValue(v);
                    writer.WriteEndArray();
                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteNumber("type", kind == DatadogKind.Count ? 1 : 3);
                if (kind == DatadogKind.Count) writer.WriteNumber("interval", 1);
                writer.WriteStartArray("points");
                foreach (var (t, second) in seconds)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("timestamp", t);
                    writer.WriteNumber("value", second.Value);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteStartArray("tags");
            foreach (var tag in tags) writer.WriteStringValue(tag);
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            return (buffer.WrittenSpan.ToArray(), seconds.SelectMany(s => s.Value.Sources).ToList());
        }
    }
}
