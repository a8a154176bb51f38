using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ContentMax.Ingestion.OpenTelemetry.Proto.Common.V1;
using ContentMax.Ingestion.Protocols;
using Google.Protobuf.Collections;

namespace ContentMax.Ingestion.OpenTelemetry;

// OTLP attribute values as tag text, and in the canonical form series
// identities are hashed from.
public static class OtlpAttributes
{
    // Attributes ordered by key (ordinal; stable, so repeated keys keep their order).
    public static KeyValue[] Sorted(RepeatedField<KeyValue>? attributes)
    {
        if (attributes is null || attributes.Count == 0) return [];
        var sorted = attributes.ToArray();
        var inOrder = true;
        for (var i = 1; i < sorted.Length && inOrder; i++)
        {
            inOrder = string.CompareOrdinal(sorted[i - 1].Key, sorted[i].Key) <= 0;
        }

        return inOrder ? sorted : [.. sorted.OrderBy(a => a.Key, StringComparer.Ordinal)];
    }

    // A value as tag text: strings as they are, booleans "true"/"false",
    // numbers in the invariant culture, bytes in base64, arrays and key-value
    // lists as compact JSON; an empty value as "".
    public static string ToText(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BytesValue => Convert.ToBase64String(value.BytesValue.Span),
        AnyValue.ValueOneofCase.ArrayValue or AnyValue.ValueOneofCase.KvlistValue => ToJson(value),
        _ => "",
    };

    // Appends one attribute to a series identity: key, then the value typed.
    // Nested key-value lists are taken in key order, so the identity does not
    // depend on the order a sender happened to list them in.
    public static void AddTo(SeriesIdentity identity, KeyValue attribute)
    {
        identity.AddString(attribute.Key);
        AddTo(identity, attribute.Value);
    }

    private static void AddTo(SeriesIdentity identity, AnyValue? value)
    {
        switch (value?.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                identity.AddByte((byte)'s').AddString(value.StringValue);
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                identity.AddByte((byte)'b').AddByte(value.BoolValue ? (byte)1 : (byte)0);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                identity.AddByte((byte)'i').AddInt64(value.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                identity.AddByte((byte)'d').AddDouble(value.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                identity.AddByte((byte)'x').AddBytes(value.BytesValue.Span);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                identity.AddByte((byte)'a').AddInt64(value.ArrayValue.Values.Count);
                foreach (var item in value.ArrayValue.Values) AddTo(identity, item);
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                var entries = Sorted(value.KvlistValue.Values);
                identity.AddByte((byte)'k').AddInt64(entries.Length);
                foreach (var entry in entries) AddTo(identity, entry);
                break;
            default:
                identity.AddByte((byte)'n');
                break;
        }
    }

    private static string ToJson(AnyValue value)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteJson(Utf8JsonWriter writer, AnyValue? value)
    {
        switch (value?.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                writer.WriteStringValue(value.StringValue);
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                writer.WriteBooleanValue(value.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.WriteNumberValue(value.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue):
                writer.WriteNumberValue(value.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                // JSON has no NaN or infinities: written as text, as OTLP JSON does.
                writer.WriteStringValue(value.DoubleValue.ToString(CultureInfo.InvariantCulture));
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                writer.WriteBase64StringValue(value.BytesValue.Span);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value.ArrayValue.Values) WriteJson(writer, item);
                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                writer.WriteStartObject();
                foreach (var entry in value.KvlistValue.Values)
                {
                    writer.WritePropertyName(entry.Key);
                    WriteJson(writer, entry.Value);
                }

                writer.WriteEndObject();
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
