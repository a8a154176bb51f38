using ContentMax.Aggregation.Rollups;

namespace ContentMax.UnitTests;

public class RollupSpansTests
{
    private static DateTime T(string text) => DateTime.SpecifyKind(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);

    [Fact]
    public void For_24Hours_UsesHoursInsideMinutesAroundAndRawAtTheEdges()
    {
        var spans = RollupSpans.For(T("2026-11-25 10:17:42.5"), T("2026-11-26 10:17:42.5"));
        Assert.Equal(T("2026-11-25 10:18:00"), spans.MinutesFrom);
        Assert.Equal(T("2026-11-25 11:00:00"), spans.HoursFrom);
        Assert.Equal(spans.DaysFrom, spans.DaysTo);
        Assert.Equal(T("2026-11-26 10:00:00"), spans.HoursTo);
        Assert.Equal(T("2026-11-26 10:17:00"), spans.MinutesTo);
    }

    [Fact]
    public void For_7Days_UsesWholeDaysInsideHoursAround()
    {
        var spans = RollupSpans.For(T("2026-11-19 10:17:42.5"), T("2026-11-26 10:17:42.5"));
        Assert.Equal(T("2026-11-19 10:18:00"), spans.MinutesFrom);
        Assert.Equal(T("2026-11-19 11:00:00"), spans.HoursFrom);
        Assert.Equal(T("2026-11-20 00:00:00"), spans.DaysFrom);
        Assert.Equal(T("2026-11-26 00:00:00"), spans.DaysTo);
        Assert.Equal(T("2026-11-26 10:00:00"), spans.HoursTo);
        Assert.Equal(T("2026-11-26 10:17:00"), spans.MinutesTo);
    }

    [Fact]
    public void For_LessThanAnHour_UsesMinutesOnly()
    {
        var spans = RollupSpans.For(T("2026-11-26 10:05:30"), T("2026-11-26 10:50:10"));
        Assert.Equal(T("2026-11-26 10:06:00"), spans.MinutesFrom);
        Assert.Equal(spans.HoursFrom, spans.HoursTo);
        Assert.Equal(spans.DaysFrom, spans.DaysTo);
        Assert.Equal(T("2026-11-26 10:50:00"), spans.MinutesTo);
    }

    [Fact]
    public void For_LessThanAMinute_UsesRawOnly()
    {
        var to = T("2026-11-26 10:05:50");
        var spans = RollupSpans.For(T("2026-11-26 10:05:10"), to);
        Assert.Equal(new RollupSpans(to, to, to, to, to, to), spans);
    }

    [Fact]
    public void For_AlignedBoundaries_NeedNoRaw()
    {
        var spans = RollupSpans.For(T("2026-11-24 00:00:00"), T("2026-11-26 06:00:00"));
        Assert.Equal(T("2026-11-24 00:00:00"), spans.MinutesFrom);
        Assert.Equal(T("2026-11-24 00:00:00"), spans.HoursFrom);
        Assert.Equal(T("2026-11-24 00:00:00"), spans.DaysFrom);
        Assert.Equal(T("2026-11-26 00:00:00"), spans.DaysTo);
        Assert.Equal(T("2026-11-26 06:00:00"), spans.HoursTo);
        Assert.Equal(T("2026-11-26 06:00:00"), spans.MinutesTo);
    }
}
