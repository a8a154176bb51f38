using ContentMax.ServiceDefaults;
using System.Text.Json;
using ContentMax.Alerting.Api;
using ContentMax.Alerting.Evaluation;
using ContentMax.Alerting.Health;
using ContentMax.Alerting.Rules;
using ContentMax.Alerting.Slos;

namespace ContentMax.UnitTests.Alerting;

public class AlertingRulesTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("3d", 259_200)]
    [InlineData("2w", 1_209_600)]
    [InlineData("0", 0)]
    public void Duration_ParsesUnits(string text, long seconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-5m")]
    [InlineData("5 m")]
    [InlineData("1.5h")]
    [InlineData("5y")]
    [InlineData("99999999999d")]
    public void Duration_RejectsAnythingElse(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData(90, "90s")]
    [InlineData(300, "5m")]
    [InlineData(21_600, "6h")]
    [InlineData(259_200, "3d")]
    public void Duration_FormatsInTheLargestWholeUnit(long seconds, string text) => Assert.Equal(text, Duration.Format(TimeSpan.FromSeconds(seconds)));

    private static AlertRule Threshold() => new()
    {
        Id = "api-latency-p95",
        Name = "API p95 latency",
        Kind = RuleKinds.Threshold,
        Select = new MetricSelector { Metric = "api_response_time" },
        Aggregate = "p95",
        Window = TimeSpan.FromMinutes(5),
        Op = ">",
        Threshold = 800,
    };

    [Fact]
    public void Validation_AcceptsAWellFormedRule() => Assert.Empty(AlertingValidation.Check(Threshold()));

    [Fact]
    public void Validation_NamesEveryBadField()
    {
        var rule = Threshold() with
        {
            Id = "Bad Id",
            Severity = "urgent",
            Aggregate = "p42",
            Window = TimeSpan.FromSeconds(1),
            Op = "=>",
            Threshold = double.NaN,
            Select = new MetricSelector { Metric = "", Where = [new ValueFilter { Tag = "status", Op = "~", Value = 1 }] },
            Labels = new() { ["alertname"] = "x", ["bad-label"] = "y" },
            Runbook = "javascript:alert(1)",
        };

        var errors = AlertingValidation.Check(rule);

        Assert.Equal(
            ["aggregate", "id", "labels.(invalid name)", "labels.alertname", "op", "runbook", "select.metric", "select.where[0].op", "severity", "threshold", "window"],
            errors.Keys.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Validation_ChecksEachKindsOwnFields()
    {
        Assert.Contains("numerator", AlertingValidation.Check(Threshold() with { Kind = RuleKinds.Ratio, Denominator = new() { Metric = "api_requests" } }).Keys);
        Assert.Contains("check", AlertingValidation.Check(Threshold() with { Kind = RuleKinds.Health }).Keys);
        Assert.Contains("per", AlertingValidation.Check(Threshold() with { Kind = RuleKinds.Rate, Per = TimeSpan.FromHours(1) }).Keys);
        Assert.Contains("kind", AlertingValidation.Check(Threshold() with { Kind = RuleKinds.SloBurn }).Keys);
    }

    [Fact]
    public void Validation_OfSlos_WantsAPercentageAndAWindow()
    {
        var slo = new SloDefinition { Id = "a", Name = "A", Objective = 0.999, Window = TimeSpan.FromDays(30), Good = new() { Metric = "x" }, Total = new() { Metric = "x" } };
        Assert.Empty(AlertingValidation.Check(slo));
        Assert.Contains("objective", AlertingValidation.Check(slo with { Objective = 100 }).Keys);
        Assert.Contains("window", AlertingValidation.Check(slo with { Window = TimeSpan.FromDays(365) }).Keys);
    }

    [Fact]
    public void Json_RoundTripsDurations_AndRejectsUnknownFields()
    {
        var json = JsonSerializer.Serialize(Threshold() with { For = TimeSpan.FromMinutes(5) }, AlertingJson.Options);
        Assert.Contains("\"for\":\"5m\"", json);
        Assert.Contains("\"window\":\"5m\"", json);
        Assert.Equal(TimeSpan.FromMinutes(5), JsonSerializer.Deserialize<AlertRule>(json, AlertingJson.Options)!.For);

        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<AlertRule>("""{"threshhold": 5}""", AlertingJson.Options));
        Assert.Equal("threshhold", AlertingJson.FieldOf(ex));
        var bad = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<AlertRule>("""{"window": "soon"}""", AlertingJson.Options));
        Assert.Equal("window", AlertingJson.FieldOf(bad));
    }

    [Fact]
    public void TheShippedSeedFile_IsValid_AndHasTheDefaultRules()
    {
        var seed = AlertingSeeder.Load(Path.Combine(AppContext.BaseDirectory, "alert-rules.json"));

        var ids = seed.Rules.Select(r => r.Id).ToHashSet();
        foreach (var id in new[] { "critical-errors", "error-rate", "api-latency-p95", "database-unhealthy", "messaging-unhealthy", "web-vital-lcp-poor", "datadog-forwarding-failing" })
        {
            Assert.Contains(id, ids);
        }

        Assert.All(seed.Rules, r => Assert.False(string.IsNullOrEmpty(r.Runbook)));
        Assert.All(seed.Rules.Select(r => r.Runbook!).Concat(seed.Slos.Select(s => s.Runbook!)).Distinct(), runbook =>
            Assert.True(File.Exists(Path.Combine(RepositoryRoot(), "docs", "runbooks", runbook + ".md")), $"docs/runbooks/{runbook}.md is missing"));
        Assert.Equal(["api-availability", "api-latency"], seed.Slos.Select(s => s.Id).ToArray());
    }

    [Fact]
    public void SeedFile_WithABadRule_FailsNamingTheRuleAndField()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """{ "rules": [ { "id": "x", "name": "X", "kind": "threshold", "select": { "metric": "m" }, "aggregate": "p95", "window": "5m", "op": ">>" } ] }""");
        var ex = Assert.Throws<InvalidOperationException>(() => AlertingSeeder.Load(path));
        Assert.Contains("rule 'x' op", ex.Message);
        File.Delete(path);
    }

    [Fact]
    public void SloBurnRules_FollowTheWorkbookTable()
    {
        var slo = new SloDefinition { Id = "api-availability", Name = "API availability", Objective = 99.9, Labels = new() { ["team"] = "web" } };

        var rules = slo.BurnRules().ToList();

        Assert.Equal(["slo:api-availability:1h-5m", "slo:api-availability:6h-30m", "slo:api-availability:3d-6h"], rules.Select(r => r.Id).ToArray());
        Assert.Equal([Severities.Critical, Severities.Critical, Severities.Warning], rules.Select(r => r.Severity).ToArray());
        Assert.Equal([14.4, 6, 1], rules.Select(r => r.Threshold).ToArray());
        Assert.All(rules, r => Assert.Equal("web", r.Labels["team"]));
        Assert.Equal("ticket", rules[2].Labels["notify"]);
    }

    [Theory]
    [InlineData(20, 20, true)]
    [InlineData(20, 10, false)]   // the short window has recovered
    [InlineData(10, 20, false)]   // a short spike against a calm hour
    public void BurnCondition_NeedsBothWindows(double longRate, double shortRate, bool fires)
    {
        var rule = new SloDefinition { Id = "s", Name = "S", Objective = 99.9 }.BurnRules().First();
        var rates = new Dictionary<TimeSpan, double> { [TimeSpan.FromHours(1)] = longRate, [TimeSpan.FromMinutes(5)] = shortRate };

        var (condition, value) = AlertEvaluator.BurnCondition(rule, rates);

        Assert.Equal(fires, condition);
        Assert.Equal(Math.Min(longRate, shortRate), value);
    }

    [Fact]
    public void HealthCondition_MatchesACheckByNameOrItsGroup()
    {
        var now = DateTimeOffset.UtcNow;
        HealthCheckStatus[] checks =
        [
            new("database", "database", "healthy", now, null),
            new("service:ingestion", "services", "unhealthy", now, "timed out"),
            new("service:dashboard", "services", "degraded", now, null),
        ];
        var rule = new AlertRule { Kind = RuleKinds.Health, Check = "services" };

        Assert.Equal((true, 1d), AlertEvaluator.HealthCondition(rule, checks));
        Assert.Equal((true, 2d), AlertEvaluator.HealthCondition(rule with { HealthStatus = "degraded" }, checks));
        Assert.Equal((false, 0d), AlertEvaluator.HealthCondition(rule with { Check = "database" }, checks));
        Assert.Equal((false, 0d), AlertEvaluator.HealthCondition(rule with { Check = "messaging" }, checks));
    }

    [Fact]
    public void Describe_SaysWhatTheRuleChecks()
    {
        Assert.Equal("p95(api_response_time) over 5m > 800", AlertEvaluator.Describe(Threshold()));
        var ratio = new AlertRule
        {
            Kind = RuleKinds.Ratio,
            Numerator = new() { Metric = "api_requests", Where = [new() { Tag = "status", Op = ">=", Value = 500 }] },
            Denominator = new() { Metric = "api_requests" },
            Window = TimeSpan.FromMinutes(5),
            Op = ">",
            Threshold = 0.05,
        };
        Assert.Equal("count(api_requests{status>=500}) / count(api_requests) over 5m > 0.05", AlertEvaluator.Describe(ratio));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ContentMax.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Not inside the repository.");
    }
}
