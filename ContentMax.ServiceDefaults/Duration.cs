using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContentMax.ServiceDefaults;

// Durations as alert rules and settings write them: a whole number and a unit,
// "30s", "5m", "1h", "3d", "4w"; "0" or "0s" is zero.
public static class Duration
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 12) return false;
        if (text == "0") return true;

        var unit = text[^1];
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
        var seconds = unit switch
        {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86_400,
            'w' => n * 604_800,
            _ => -1,
        };
        if (seconds < 0 || seconds > 10L * 365 * 86_400) return false;
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    // A setting's duration: the rule form ("15s", "5m"), milliseconds ("250ms",
    // for the few sub-second settings), or .NET's own "00:00:15".
    public static bool TryParseSetting(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text)) return false;
        if (text.EndsWith("ms", StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(0, text.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            && ms <= 10L * 365 * 86_400_000)
        {
            value = TimeSpan.FromMilliseconds(ms);
            return true;
        }

        return TryParse(text, out value) || TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    // Settings bind TimeSpan through this converter, so `Alerting__EvaluationInterval=15s`
    // means what the README says; a value in neither form fails startup naming the forms.
    public static void AcceptInSettings()
    {
        if (Interlocked.Exchange(ref _acceptedInSettings, 1) == 0)
        {
            TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(SettingDurationConverter)));
        }
    }

    private static int _acceptedInSettings;

    public static string Format(TimeSpan value)
    {
        var seconds = (long)value.TotalSeconds;
        if (seconds == 0) return "0s";
        foreach (var (unit, size) in new[] { ('w', 604_800L), ('d', 86_400L), ('h', 3600L), ('m', 60L) })
        {
            if (seconds % size == 0) return (seconds / size).ToString(CultureInfo.InvariantCulture) + unit;
        }

        return seconds.ToString(CultureInfo.InvariantCulture) + "s";
    }
}

public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && Duration.TryParse(reader.GetString(), out var value)) return value;
        throw new JsonException("must be a duration such as \"30s\", \"5m\", \"1h\" or \"3d\"");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Duration.Format(value));
}

public sealed class SettingDurationConverter : TimeSpanConverter
{
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? Duration.TryParseSetting(text, out var parsed)
                ? parsed
                : throw new FormatException($"'{text}' is not a duration: write it as 250ms, 15s, 5m, 1h or 1d, or as 00:00:15.")
            : base.ConvertFrom(context, culture, value);
}
