using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ContentMax.Contracts;

// Longer than our usual 300 lines: the encoder and the decoder of one format
// side by side, so a change to either is made to both.
//
// ContentMax's compact binary form of a batch of points (MetricsBatchReceived.Packed).
// Every string (names, tag keys and values, URLs) is written once in a table
// and referred to by index, timestamps as deltas from the previous point, so a
// batch of 1000 points of 20 names with a few tags is about 40 bytes a point
// and decodes without parsing text.
//
//   "CMB" version(1)
//   varint strings, then each: varint byte length, UTF-8
//   varint points, then each:
//     flags (1 client id, 2 url, 4 user agent, 8 tags, 16 distribution, 32 cumulative)
//     id (16 bytes), varint name, zigzag varint timestamp delta, value (float64 LE)
//     [varint url] [varint user agent] [varint n, then n × (varint key, varint value)]
//     [distribution: varint count, byte (1 min, 2 max), [min], [max],
//                    varint bounds, bounds × float64, (bounds + 1) × varint count]
//     [cumulative: series (16 bytes), varint start time]
public static class MetricBatchCodec
{
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "CMB"u8;

    [Flags]
    private enum PointFlags : byte
    {
        ClientId = 1,
        Url = 2,
        UserAgent = 4,
        Tags = 8,
        Distribution = 16,
        Cumulative = 32,
    }

    public static byte[] Encode(IReadOnlyList<MetricPoint> points)
    {
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var table = new List<string>();
        int Index(string s)
        {
            if (!strings.TryGetValue(s, out var i))
            {
                i = table.Count;
                strings.Add(s, i);
                table.Add(s);
            }

            return i;
        }

        // Points first, into a scratch buffer, so the string table they build
        // can be written ahead of them.
        var body = new ArrayBufferWriter<byte>(points.Count * 48 + 64);
        WriteVarint(body, (ulong)points.Count);
        long previous = 0;
        foreach (var p in points)
        {
            var flags = (p.RequireUniqueId ? PointFlags.ClientId : 0)
                | (p.Url is not null ? PointFlags.Url : 0)
                | (p.UserAgent is not null ? PointFlags.UserAgent : 0)
                | (p.Tags is { Count: > 0 } ? PointFlags.Tags : 0)
                | (p.Distribution is not null ? PointFlags.Distribution : 0)
                | (p.Cumulative is not null ? PointFlags.Cumulative : 0);
            var span = body.GetSpan(1 + 16 + 8);
            span[0] = (byte)flags;
            p.Id.TryWriteBytes(span[1..]);
            body.Advance(17);
            WriteVarint(body, (ulong)Index(p.Metric));
            WriteVarint(body, ZigZag(p.Timestamp - previous));
            previous = p.Timestamp;
            WriteDouble(body, p.Value);
            if (p.Url is not null) WriteVarint(body, (ulong)Index(p.Url));
            if (p.UserAgent is not null) WriteVarint(body, (ulong)Index(p.UserAgent));
            if (p.Tags is { Count: > 0 } tags)
            {
                WriteVarint(body, (ulong)tags.Count);
                foreach (var (key, value) in tags)
                {
                    WriteVarint(body, (ulong)Index(key));
                    WriteVarint(body, (ulong)Index(value));
                }
            }

            if (p.Distribution is { } d)
            {
                WriteVarint(body, (ulong)d.Count);
                var span1 = body.GetSpan(1);
                span1[0] = (byte)((d.Min is not null ? 1 : 0) | (d.Max is not null ? 2 : 0));
                body.Advance(1);
                if (d.Min is { } min) WriteDouble(body, min);
                if (d.Max is { } max) WriteDouble(body, max);
                WriteVarint(body, (ulong)d.Bounds.Length);
                foreach (var bound in d.Bounds) WriteDouble(body, bound);
                if (d.Bounds.Length > 0)
                {
                    for (var i = 0; i <= d.Bounds.Length; i++) WriteVarint(body, (ulong)(i < d.BucketCounts.Length ? d.BucketCounts[i] : 0));
                }
            }

            if (p.Cumulative is { } c)
            {
                var s = body.GetSpan(16);
                c.Series.TryWriteBytes(s);
                body.Advance(16);
                WriteVarint(body, (ulong)Math.Max(0, c.StartTime));
            }
        }

        var head = new ArrayBufferWriter<byte>(table.Count * 16 + 16);
        head.Write(Magic);
        head.Write([Version]);
        WriteVarint(head, (ulong)table.Count);
        foreach (var s in table)
        {
            var length = Encoding.UTF8.GetByteCount(s);
            WriteVarint(head, (ulong)length);
            Encoding.UTF8.GetBytes(s, head.GetSpan(length));
            head.Advance(length);
        }

        var result = new byte[head.WrittenCount + body.WrittenCount];
        head.WrittenSpan.CopyTo(result);
        body.WrittenSpan.CopyTo(result.AsSpan(head.WrittenCount));
        return result;
    }

    // Throws FormatException for anything that is not a batch this codec wrote.
    public static MetricPoint[] Decode(ReadOnlySpan<byte> data)
    {
        var reader = new Reader(data);
        if (data.Length < 4 || !data[..3].SequenceEqual(Magic))
        {
            throw new FormatException("The packed metrics do not start with the CMB header.");
        }

        if (data[3] != Version)
        {
            throw new FormatException($"Packed metrics version {data[3]} is not supported (expected {Version}).");
        }

        reader.Skip(4);
        var table = new string[reader.Count(minBytesEach: 1)];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = Encoding.UTF8.GetString(reader.Bytes(reader.Count(minBytesEach: 1)));
        }

        var points = new MetricPoint[reader.Count(minBytesEach: 27)];
        long timestamp = 0;
        // Points of a batch mostly share their tag sets; each distinct set is
        // built once and shared (points never change their tags).
        var tagSets = new Dictionary<int, (int[] Indexes, Dictionary<string, string> Tags)>();
        Span<int> indexes = stackalloc int[2 * (MetricRules.MaxTags + 1)];
        for (var i = 0; i < points.Length; i++)
        {
            var flags = (PointFlags)reader.Byte();
            var id = new Guid(reader.Bytes(16));
            var name = table[reader.Index(table.Length)];
            timestamp += UnZigZag(reader.Varint());
            var value = reader.Double();
            var url = (flags & PointFlags.Url) != 0 ? table[reader.Index(table.Length)] : null;
            var userAgent = (flags & PointFlags.UserAgent) != 0 ? table[reader.Index(table.Length)] : null;
            Dictionary<string, string>? tags = null;
            if ((flags & PointFlags.Tags) != 0)
            {
                var n = reader.Count(minBytesEach: 2);
                if (n <= MetricRules.MaxTags + 1)
                {
                    var set = indexes[..(2 * n)];
                    var hash = new HashCode();
                    for (var t = 0; t < set.Length; t++)
                    {
                        set[t] = reader.Index(table.Length);
                        hash.Add(set[t]);
                    }

                    var key = hash.ToHashCode();
                    if (tagSets.TryGetValue(key, out var known) && known.Indexes.AsSpan().SequenceEqual(set))
                    {
                        tags = known.Tags;
                    }
                    else
                    {
                        tags = new Dictionary<string, string>(n, StringComparer.Ordinal);
                        for (var t = 0; t < n; t++) tags[table[set[2 * t]]] = table[set[2 * t + 1]];
                        tagSets[key] = (set.ToArray(), tags);
                    }
                }
                else
                {
                    // More tags than MetricRules allows: decoded as they are, for validation to reject.
                    tags = new Dictionary<string, string>(n, StringComparer.Ordinal);
                    for (var t = 0; t < n; t++) tags[table[reader.Index(table.Length)]] = table[reader.Index(table.Length)];
                }
            }

            Distribution? distribution = null;
            if ((flags & PointFlags.Distribution) != 0)
            {
                var count = (long)reader.Varint();
                var extremes = reader.Byte();
                double? min = (extremes & 1) != 0 ? reader.Double() : null;
                double? max = (extremes & 2) != 0 ? reader.Double() : null;
                var bounds = new double[reader.Count(minBytesEach: 9)];
                for (var b = 0; b < bounds.Length; b++) bounds[b] = reader.Double();
                var counts = bounds.Length == 0 ? [] : new long[bounds.Length + 1];
                for (var b = 0; b < counts.Length; b++) counts[b] = (long)reader.Varint();
                distribution = new Distribution { Count = count, Min = min, Max = max, Bounds = bounds, BucketCounts = counts };
            }

            CumulativeSeries? cumulative = null;
            if ((flags & PointFlags.Cumulative) != 0)
            {
                var series = new Guid(reader.Bytes(16));
                cumulative = new CumulativeSeries { Series = series, StartTime = (long)reader.Varint() };
            }

            points[i] = new MetricPoint
            {
                Id = id,
                RequireUniqueId = (flags & PointFlags.ClientId) != 0,
                Metric = name,
                Value = value,
                Timestamp = timestamp,
                Url = url,
                UserAgent = userAgent,
                Tags = tags,
                Distribution = distribution,
                Cumulative = cumulative,
            };
        }

        if (!reader.AtEnd)
        {
            throw new FormatException("The packed metrics have bytes after the last point.");
        }

        return points;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static void WriteVarint(IBufferWriter<byte> writer, ulong value)
    {
        var span = writer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        writer.Advance(i);
    }

    private static void WriteDouble(IBufferWriter<byte> writer, double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }

    // Bounds-checked reading: every length and index is checked against what
    // is left, so a corrupt body fails with FormatException, never with a
    // huge allocation or an out-of-range read.
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        public void Skip(int n) => _position += n;

        public byte Byte()
        {
            if (_position >= _data.Length) throw Truncated();
            return _data[_position++];
        }

        public ReadOnlySpan<byte> Bytes(int n)
        {
            if (n > _data.Length - _position) throw Truncated();
            var span = _data.Slice(_position, n);
            _position += n;
            return span;
        }

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8));

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte();
                result |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return result;
            }

            throw new FormatException("The packed metrics hold a malformed number.");
        }

        // A count of items that each take at least minBytesEach bytes: more
        // than the bytes left could hold is corrupt.
        public int Count(int minBytesEach)
        {
            var n = Varint();
            if (n > (ulong)((_data.Length - _position) / minBytesEach + 1)) throw Truncated();
            return (int)n;
        }

        public int Index(int length)
        {
            var i = Varint();
            if (i >= (ulong)length) throw new FormatException("The packed metrics refer to a string that is not in their table.");
            return (int)i;
        }

        private static FormatException Truncated() => new("The packed metrics are truncated or corrupt.");
    }
}
