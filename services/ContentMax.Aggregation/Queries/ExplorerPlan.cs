using ContentMax.Aggregation.Rollups;

namespace ContentMax.Aggregation.Queries;

// Which spans come from which tier.
public sealed record ExplorerPlan(List<(DateTime From, DateTime To)> Raw, List<(string Table, DateTime From, DateTime To)> Rollups)
{
    public static ExplorerPlan RawOnly(DateTime from, DateTime to) => new([(from, to)], []);

    // The spans of [from, to) per tier when the tagged rollups may be used:
    // days only if a chart step is whole days, hours only if it is whole
    // hours, quarter-hours only if it is whole quarters (and not hours),
    // minutes only if it is whole minutes (a rollup row must fall into one
    // step).
    public static ExplorerPlan For(DateTime from, DateTime to, TimeSpan? step)
    {
        var daysFit = step is null || step.Value.Ticks % TimeSpan.TicksPerDay == 0;
        var hoursFit = step is null || step.Value.Ticks % TimeSpan.TicksPerHour == 0;
        var quartersFit = step is not null && step.Value.Ticks % QuarterTicks == 0;
        var minutesFit = step is null || step.Value.Ticks % TimeSpan.TicksPerMinute == 0;
        if (!minutesFit) return RawOnly(from, to);
        var s = RollupSpans.For(from, to);
        var raw = new List<(DateTime, DateTime)>();
        var rollups = new List<(string, DateTime, DateTime)>();
        void AddRaw(DateTime f, DateTime t) { if (f < t) raw.Add((f, t)); }
        void AddRollup(string table, DateTime f, DateTime t) { if (f < t) rollups.Add((table, f, t)); }

        AddRaw(from, s.MinutesFrom);
        AddRaw(s.MinutesTo, to);
        if (hoursFit)
        {
            AddRollup(TaggedMinuteTable, s.MinutesFrom, s.HoursFrom);
            if (daysFit)
            {
                AddRollup(TaggedHourTable, s.HoursFrom, s.DaysFrom);
                AddRollup(TaggedDayTable, s.DaysFrom, s.DaysTo);
                AddRollup(TaggedHourTable, s.DaysTo, s.HoursTo);
            }
            else
            {
                AddRollup(TaggedHourTable, s.HoursFrom, s.HoursTo);
            }

            AddRollup(TaggedMinuteTable, s.HoursTo, s.MinutesTo);
        }
        else if (quartersFit)
        {
            // Whole quarters from quarter rows, the minutes around them from minute rows.
            var quartersFrom = new DateTime(Math.Min(RollupSpans.Ceiling(s.MinutesFrom, QuarterTicks).Ticks, s.MinutesTo.Ticks), DateTimeKind.Utc);
            var quartersTo = new DateTime(Math.Max(RollupSpans.Floor(s.MinutesTo, QuarterTicks).Ticks, quartersFrom.Ticks), DateTimeKind.Utc);
            AddRollup(TaggedMinuteTable, s.MinutesFrom, quartersFrom);
            AddRollup(TaggedQuarterTable, quartersFrom, quartersTo);
            AddRollup(TaggedMinuteTable, quartersTo, s.MinutesTo);
        }
        else
        {
            AddRollup(TaggedMinuteTable, s.MinutesFrom, s.MinutesTo);
        }

        if (s.MinutesFrom == to) raw = [(from, to)];
        return new ExplorerPlan(raw, rollups);
    }

    // The same plan with the given quarters (stale or never built) read from
    // their minute rows instead of their quarter rows; adjacent ones as one span.
    public ExplorerPlan WithStaleQuarters(IReadOnlyCollection<DateTime> stale)
    {
        if (stale.Count == 0) return this;
        var staleSet = stale.ToHashSet();
        var rollups = new List<(string Table, DateTime From, DateTime To)>();
        foreach (var span in Rollups)
        {
            if (span.Table != TaggedQuarterTable)
            {
                rollups.Add(span);
                continue;
            }

            var runStart = span.From;
            var runStale = staleSet.Contains(span.From);
            for (var q = span.From; q < span.To; q = q.AddTicks(QuarterTicks))
            {
                var isStale = staleSet.Contains(q);
                if (isStale == runStale) continue;
                rollups.Add((runStale ? TaggedMinuteTable : TaggedQuarterTable, runStart, q));
                (runStart, runStale) = (q, isStale);
            }

            rollups.Add((runStale ? TaggedMinuteTable : TaggedQuarterTable, runStart, span.To));
        }

        return this with { Rollups = rollups };
    }

    private static readonly long QuarterTicks = TimeSpan.FromMinutes(15).Ticks;

    public const string TaggedMinuteTable = "metric_rollups_tagged_minute";
    public const string TaggedQuarterTable = "metric_rollups_tagged_quarter";
    public const string TaggedHourTable = "metric_rollups_tagged_hour";
    public const string TaggedDayTable = "metric_rollups_tagged_day";
}
