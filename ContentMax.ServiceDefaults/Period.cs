// Shared by every query API (aggregation, health history), so periods mean the same everywhere.
using System.Globalization;
using System.Text.RegularExpressions;

namespace ContentMax.ServiceDefaults;

// A look-back window such as "24h", "7d", "2w" or "1m" (a 30-day month), and a
// chart step such as "30s", "5m", "1h", "1d". Anything else is an error rather
// than a silent default.
public static partial class Period
{
    public const string Default = "24h";
    public static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    public static bool TryParse(string? text, out TimeSpan period, out string error)
    {
        period = default;
        error = "";
        text ??= Default;
        var match = PeriodPattern().Match(text);
        if (!match.Success)
        {
            error = "must be a number followed by h (hours), d (days), w (weeks) or m (30-day months), such as 24h or 7d";
            return false;
        }

        var unit = match.Groups[2].Value[0] switch
        {
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            'w' => TimeSpan.FromDays(7),
            _ => TimeSpan.FromDays(30),
        };
        return TryScale(match.Groups[1].Value, unit, out period, out error);
    }

    public static bool TryParseStep(string text, out TimeSpan step, out string error)
    {
        step = default;
        error = "";
        var match = StepPattern().Match(text);
        if (!match.Success)
        {
            error = "must be a number followed by s, m, h or d, such as 5m or 1h";
            return false;
        }

        var unit = match.Groups[2].Value[0] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            _ => TimeSpan.FromDays(1),
        };
        return TryScale(match.Groups[1].Value, unit, out step, out error);
    }

    private static bool TryScale(string digits, TimeSpan unit, out TimeSpan result, out string error)
    {
        result = default;
        error = "";
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count == 0)
        {
            error = "must be at least 1";
            return false;
        }

        if (count > Longest.Ticks / unit.Ticks)
        {
            error = "must be at most 3650 days";
            return false;
        }

        result = TimeSpan.FromTicks(unit.Ticks * count);
        return true;
    }

    [GeneratedRegex(@"^(\d{1,10})([hdwm])$", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodPattern();

    [GeneratedRegex(@"^(\d{1,10})([smhd])$", RegexOptions.CultureInvariant)]
    private static partial Regex StepPattern();
}
