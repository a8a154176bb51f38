using System.Globalization;
using System.Text.RegularExpressions;

namespace ContentMax.Monitoring.Client;

// Durations as people type them in settings: "500ms", "1s", "1.5s", "2m",
// "1h", "1d", or TimeSpan's own "00:00:01".
internal static partial class DurationText
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var match = HumanForm().Match(text);
        if (!match.Success)
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        }

        var number = double.Parse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        var milliseconds = number * match.Groups[2].Value switch
        {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => 86_400_000,
        };
        if (milliseconds > TimeSpan.MaxValue.TotalMilliseconds) return false;
        value = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    [GeneratedRegex(@"^(\d{1,9}(?:\.\d{1,9})?)(ms|s|m|h|d)$", RegexOptions.CultureInvariant)]
    private static partial Regex HumanForm();
}
