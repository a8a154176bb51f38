using ContentMax.ServiceDefaults;

namespace ContentMax.UnitTests;

public class PeriodTests
{
    [Theory]
    [InlineData("1h", 1 * 60)]
    [InlineData("24h", 24 * 60)]
    [InlineData("7d", 7 * 24 * 60)]
    [InlineData("2w", 14 * 24 * 60)]
    [InlineData("1m", 30 * 24 * 60)]
    [InlineData("3650d", 3650 * 24 * 60)]
    public void TryParse_ValidPeriods(string text, int minutes)
    {
        Assert.True(Period.TryParse(text, out var period, out _));
        Assert.Equal(TimeSpan.FromMinutes(minutes), period);
    }

    [Fact]
    public void TryParse_NullMeansTheDefault24h()
    {
        Assert.True(Period.TryParse(null, out var period, out _));
        Assert.Equal(TimeSpan.FromHours(24), period);
    }

    [Theory]
    [InlineData("")]
    [InlineData("24")]
    [InlineData("h")]
    [InlineData("24H")]
    [InlineData("-1h")]
    [InlineData("1.5h")]
    [InlineData("1y")]
    [InlineData(" 1h")]
    [InlineData("1h ")]
    [InlineData("0h")]
    [InlineData("3651d")]
    [InlineData("99999999999h")]
    public void TryParse_AnythingElseIsAnError(string text)
    {
        Assert.False(Period.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("1d", 86400)]
    public void TryParseStep_ValidSteps(string text, int seconds)
    {
        Assert.True(Period.TryParseStep(text, out var step, out _));
        Assert.Equal(TimeSpan.FromSeconds(seconds), step);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("0m")]
    [InlineData("5w")]
    public void TryParseStep_RejectsOthers(string text) => Assert.False(Period.TryParseStep(text, out _, out _));
}
