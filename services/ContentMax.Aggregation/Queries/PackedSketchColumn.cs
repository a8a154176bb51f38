using System.Buffers;
using Npgsql;

namespace ContentMax.Aggregation.Queries;

// A packed sketch column (0018_packed_sketches.sql) of the current row, read
// into a pooled buffer; LogSketch.MergePacked reads the span.
internal readonly struct PackedSketchColumn : IDisposable
{
    private readonly byte[] _buffer;
    private readonly int _length;

    public PackedSketchColumn(NpgsqlDataReader reader, int ordinal)
    {
        _length = (int)reader.GetBytes(ordinal, 0, null, 0, 0);
        _buffer = ArrayPool<byte>.Shared.Rent(_length);
        reader.GetBytes(ordinal, 0, _buffer, 0, _length);
    }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}
