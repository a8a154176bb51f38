using ContentMax.Contracts;

namespace ContentMax.UnitTests;

public class MetricBatchCodecTests
{
    private static MetricPoint Full(int i) => new()
    {
        Id = Guid.NewGuid(),
        RequireUniqueId = i % 2 == 0,
        Metric = "api_response_time",
        Value = 1234.5 + i,
        Timestamp = 1_795_694_400_000 - i * 37,
        Url = i % 3 == 0 ? "https://app.test/projects/" + i : null,
        UserAgent = i % 3 == 0 ? "Mozilla/5.0 (X11; Linux x86_64)" : null,
        Tags = new() { ["route"] = "/api/nodes/{id}", ["status"] = (200 + i % 3).ToString(), ["ünïcode"] = "✓" },
        Distribution = i % 4 == 1
            ? new Distribution { Count = 6, Min = 1.5, Max = i % 8 == 1 ? 900 : null, Bounds = [10, 100, 1000], BucketCounts = [1, 2, 3, 0] }
            : null,
        Cumulative = i % 5 == 2 ? new CumulativeSeries { Series = Guid.NewGuid(), StartTime = i % 10 == 2 ? 0 : 1_795_694_000_000 } : null,
    };

    [Fact]
    public void Decode_OfEncode_GivesBackEveryField()
    {
        var points = Enumerable.Range(0, 200).Select(Full).ToArray();

        var decoded = MetricBatchCodec.Decode(MetricBatchCodec.Encode(points));

        Assert.Equal(points.Length, decoded.Length);
        for (var i = 0; i < points.Length; i++)
        {
            var (a, b) = (points[i], decoded[i]);
            Assert.Equal((a.Id, a.RequireUniqueId, a.Metric, a.Value, a.Timestamp, a.Url, a.UserAgent), (b.Id, b.RequireUniqueId, b.Metric, b.Value, b.Timestamp, b.Url, b.UserAgent));
            Assert.Equal(a.Tags, b.Tags);
            Assert.Equal(a.Cumulative, b.Cumulative);
            Assert.Equal(a.Distribution is null, b.Distribution is null);
            if (a.Distribution is { } d)
            {
                Assert.Equal((d.Count, d.Min, d.Max), (b.Distribution!.Count, b.Distribution.Min, b.Distribution.Max));
                Assert.Equal(d.Bounds, b.Distribution.Bounds);
                Assert.Equal(d.BucketCounts, b.Distribution.BucketCounts);
            }
        }
    }

    [Fact]
    public void Encode_WritesRepeatedStringsOnce()
    {
        var points = Enumerable.Range(0, 1000).Select(i => new MetricPoint
        {
            Id = Guid.NewGuid(), Metric = "LCP", Value = i, Timestamp = 1_795_694_400_000 + i, Tags = new() { ["env"] = "production", ["route"] = "/" },
        }).ToArray();

        var size = MetricBatchCodec.Encode(points).Length;

        // id 16 + flags 1 + name 1 + time delta 1 + value 8 + 5 bytes of tags.
        Assert.InRange(size / (double)points.Length, 30, 34);
    }

    [Fact]
    public void Decode_EveryTruncation_FailsWithFormatException()
    {
        var encoded = MetricBatchCodec.Encode(Enumerable.Range(0, 20).Select(Full).ToArray());

        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<FormatException>(() => MetricBatchCodec.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Decode_CorruptBytes_FailWithFormatExceptionOrDecode_NeverAnythingElse()
    {
        var encoded = MetricBatchCodec.Encode(Enumerable.Range(0, 20).Select(Full).ToArray());
        var random = new Random(5);
        for (var trial = 0; trial < 5000; trial++)
        {
            var corrupt = (byte[])encoded.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--) corrupt[random.Next(corrupt.Length)] = (byte)random.Next(256);
            try
            {
                MetricBatchCodec.Decode(corrupt);
            }
            catch (FormatException)
            {
            }
        }
    }

    [Theory]
    [InlineData(new byte[] { (byte)'C', (byte)'M', (byte)'X', 1, 0, 0 }, "header")]
    [InlineData(new byte[] { (byte)'C', (byte)'M', (byte)'B', 9, 0, 0 }, "version 9")]
    [InlineData(new byte[] { (byte)'C', (byte)'M', (byte)'B', 1, 0, 0, 7 }, "after the last point")]
    public void Decode_ForeignInput_SaysWhatIsWrong(byte[] input, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => MetricBatchCodec.Decode(input)).Message);

    [Fact]
    public void Points_PrefersThePackedForm()
    {
        var packed = MetricBatchCodec.Encode([Full(1)]);
        var message = new MetricsBatchReceived { Packed = packed, Metrics = [Full(2), Full(3)] };
        Assert.Single(message.Points());
        Assert.Equal(2, new MetricsBatchReceived { Metrics = [Full(2), Full(3)] }.Points().Length);
    }
}
