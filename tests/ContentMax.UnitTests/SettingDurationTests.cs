using ContentMax.Aggregation;
using ContentMax.Alerting;
using ContentMax.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace ContentMax.UnitTests;

// Durations in settings take the form alert rules and the README use ("15s"),
// as well as .NET's "00:00:15"; a value in neither form fails with the forms named.
public class SettingDurationTests
{
    public SettingDurationTests() => Duration.AcceptInSettings();

    private static T Bind<T>(params (string Key, string Value)[] settings) where T : new() =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build()
            .Get<T>() ?? new T();

    [Theory]
    [InlineData("2s", 2_000)]
    [InlineData("15s", 15_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("250ms", 250)]
    [InlineData("00:00:15", 15_000)]
    [InlineData(" 30s ", 30_000)]
    public void AlertingEvaluationInterval_AcceptsTheRuleForm(string text, int expectedMs)
    {
        var options = Bind<AlertingOptions>(("EvaluationInterval", text));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), options.EvaluationInterval);
    }

    [Fact]
    public void StorageLinger_AcceptsMilliseconds()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(40), Bind<AggregationOptions>(("StorageLinger", "40ms")).StorageLinger);
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("15 seconds")]
    [InlineData("-5s")]
    public void NotADuration_FailsNamingTheForms(string text)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Bind<AlertingOptions>(("EvaluationInterval", text)));
        Assert.Contains("EvaluationInterval", error.Message);
        Assert.Contains("15s", error.ToString());
    }
}
