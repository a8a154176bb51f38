using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ContentMax.Ingestion.Protocols;

// The identity of a cumulative series (CumulativeSeries.Series): a SHA-256
// over a canonical encoding of everything that names the series, written by
// the caller in a fixed order. Every string is length-prefixed and every value
// typed, so different inputs cannot run together into the same bytes. It is
// taken over all attributes before any tag is dropped: two series that differ
// only in an over-long attribute stay two series. The first 16 bytes of the
// hash, marked as an RFC 9562 version 8 (custom) UUID, make the Guid.
public sealed class SeriesIdentity
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public SeriesIdentity Reset()
    {
        _buffer.ResetWrittenCount();
        return this;
    }

    public SeriesIdentity AddString(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        AddLength(length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
        return this;
    }

    public SeriesIdentity AddBytes(ReadOnlySpan<byte> value)
    {
        AddLength(value.Length);
        _buffer.Write(value);
        return this;
    }

    // Bytes already in this canonical form (a prefix shared by many series).
    public SeriesIdentity AddEncoded(ReadOnlySpan<byte> encoded)
    {
        _buffer.Write(encoded);
        return this;
    }

    public SeriesIdentity AddByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
        return this;
    }

    public SeriesIdentity AddInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    public SeriesIdentity AddDouble(double value) => AddInt64(BitConverter.DoubleToInt64Bits(value));

    public Guid ToGuid()
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(_buffer.WrittenSpan, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true);
    }

    private void AddLength(int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), length);
        _buffer.Advance(4);
    }
}
