using System.IO.Compression;

namespace ContentMax.Ingestion.Protocols;

// Reading the bodies of the protocol endpoints (OTLP, remote write) within
// size limits: the body as sent is capped by Ingestion:MaxBodyBytes like the
// JSON endpoint, and what it decompresses to by MaxDecompressedBytes, so a
// small compressed body cannot expand into gigabytes in memory.
public static class ProtocolBody
{
    public const int MaxDecompressedBytes = 16 * 1024 * 1024;

    // The whole body, or null when it is longer than maxBytes.
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes) return null;

        var buffer = new byte[Math.Min(maxBytes + 1, (int)(request.ContentLength ?? 64 * 1024) + 1)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > maxBytes) return null;
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, maxBytes + 1));
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) break;
            length += read;
            if (length > maxBytes) return null;
        }

        return length == buffer.Length ? buffer : buffer[..length];
    }

    // Decompresses a gzip body; null when it expands beyond maxBytes. Throws
    // InvalidDataException when it is not valid gzip.
    public static byte[]? Gunzip(byte[] compressed, int maxBytes = MaxDecompressedBytes)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
        var buffer = new byte[Math.Clamp(compressed.Length * 4, 4096, maxBytes + 1)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > maxBytes) return null;
                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
            }

            var read = gzip.Read(buffer, length, buffer.Length - length);
            if (read == 0) break;
            length += read;
            if (length > maxBytes) return null;
        }

        return buffer[..length];
    }

    // The media type without parameters, lower-cased; null when absent.
    public static string? MediaType(string? contentType) =>
        string.IsNullOrWhiteSpace(contentType) ? null : contentType.Split(';', 2)[0].Trim().ToLowerInvariant();

    // The Content-Encoding, lower-cased; null when absent or "identity".
    public static string? ContentEncoding(HttpRequest request)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        return encoding is "" or "identity" ? null : encoding;
    }
}
