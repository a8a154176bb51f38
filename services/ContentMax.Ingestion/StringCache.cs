using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace ContentMax.Ingestion;

// Metric names, tag keys and tag values repeat from request to request; the
// parser takes them from here instead of allocating a new string for each
// point. Only short strings are kept, and only up to a fixed number, so
// high-cardinality values (ids in tags) cannot grow it without bound: past
// the limit they are simply allocated as before.
internal static class StringCache
{
    private const int MaxLength = 128;
    private const int MaxEntries = 20_000;

    private static readonly ConcurrentDictionary<string, string> Strings = new(StringComparer.Ordinal);
    private static int _entries;
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars =
        Strings.GetAlternateLookup<ReadOnlySpan<char>>();

    // The string the reader is on (a string, property name or number token).
    public static string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxLength)
        {
            return reader.TokenType == JsonTokenType.Number
                ? Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan)
                : Intern(reader.GetString()!);
        }

        Span<char> chars = stackalloc char[MaxLength];
        var length = Encoding.UTF8.GetChars(reader.ValueSpan, chars);
        if (ByChars.TryGetValue(chars[..length], out var cached)) return cached;
        return Add(new string(chars[..length]));
    }

    private static string Intern(string text) =>
        text.Length > MaxLength ? text : Strings.TryGetValue(text, out var cached) ? cached : Add(text);

    // ConcurrentDictionary.Count takes every lock; a counter of our own does not.
    private static string Add(string text)
    {
        if (Volatile.Read(ref _entries) >= MaxEntries) return text;
        if (Strings.TryAdd(text, text))
        {
            Interlocked.Increment(ref _entries);
            return text;
        }

        return Strings.TryGetValue(text, out var cached) ? cached : text;
    }
}
