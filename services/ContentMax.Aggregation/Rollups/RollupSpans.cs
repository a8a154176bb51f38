namespace ContentMax.Aggregation.Rollups;

// How a period [from, to) splits over the rollup tiers: whole UTC days from the
// day rollups, whole hours outside them from the hourly rollups, whole minutes
// outside those from the per-minute rollups, and the partial minutes at both
// ends from raw rows:
//   raw [from, MinutesFrom) · minutes [MinutesFrom, HoursFrom) · hours [HoursFrom, DaysFrom)
//   · days [DaysFrom, DaysTo) · hours [DaysTo, HoursTo) · minutes [HoursTo, MinutesTo) · raw [MinutesTo, to)
// Empty spans have equal ends.
public readonly record struct RollupSpans(
    DateTime MinutesFrom, DateTime HoursFrom, DateTime DaysFrom, DateTime DaysTo, DateTime HoursTo, DateTime MinutesTo)
{
    public static RollupSpans For(DateTime from, DateTime to)
    {
        var minutesFrom = Ceiling(from, TimeSpan.TicksPerMinute);
        var minutesTo = Floor(to, TimeSpan.TicksPerMinute);
        if (minutesFrom >= minutesTo)
        {
            // Shorter than a whole minute: everything comes from raw rows.
            return new RollupSpans(to, to, to, to, to, to);
        }

        var hoursFrom = Ceiling(from, TimeSpan.TicksPerHour);
        var hoursTo = Floor(to, TimeSpan.TicksPerHour);
        if (hoursFrom >= hoursTo)
        {
            // No whole hour inside: minutes cover everything but the raw edges.
            return new RollupSpans(minutesFrom, minutesTo, minutesTo, minutesTo, minutesTo, minutesTo);
        }

        var daysFrom = Ceiling(from, TimeSpan.TicksPerDay);
        var daysTo = Floor(to, TimeSpan.TicksPerDay);
        if (daysFrom >= daysTo)
        {
            // No whole day inside: hours cover the middle.
            return new RollupSpans(minutesFrom, hoursFrom, hoursTo, hoursTo, hoursTo, minutesTo);
        }

        return new RollupSpans(minutesFrom, hoursFrom, daysFrom, daysTo, hoursTo, minutesTo);
    }

    internal static DateTime Floor(DateTime t, long unit) => new(t.Ticks - t.Ticks % unit, DateTimeKind.Utc);

    internal static DateTime Ceiling(DateTime t, long unit) => t.Ticks % unit == 0 ? new DateTime(t.Ticks, DateTimeKind.Utc) : new(t.Ticks - t.Ticks % unit + unit, DateTimeKind.Utc);
}
