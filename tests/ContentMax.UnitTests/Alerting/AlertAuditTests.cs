using ContentMax.Contracts.Http;
using System.Security.Claims;
using System.Text.Json;
using ContentMax.Alerting.Api;
using ContentMax.Alerting.Notifications;
using ContentMax.Alerting.Rules;
using ContentMax.Alerting.Slos;
using ContentMax.Alerting.Storage;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;

namespace ContentMax.UnitTests.Alerting;

// What the admin API records about a change, and the silence request's two
// ways of saying how long (endsAt or duration).
public class AlertAuditTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static SilenceRequest Silence(string? duration = null, DateTimeOffset? endsAt = null) => new()
    {
        Matchers = new() { ["alertname"] = "api-latency-p95" },
        Duration = duration,
        EndsAt = endsAt,
        Comment = "deploy",
    };

    [Theory]
    [InlineData("1h", 1)]
    [InlineData("4h", 4)]
    [InlineData("24h", 24)]
    [InlineData("2d", 48)]
    public void SilenceRequest_WithADuration_EndsThatLongAfterItsStart(string duration, int hours)
    {
        Assert.Empty(Silence(duration).Check(Now));
        Assert.Equal(Now.AddHours(hours), Silence(duration).End(Now));
        var later = Silence(duration) with { StartsAt = Now.AddHours(1) };
        Assert.Empty(later.Check(Now));
        Assert.Equal(Now.AddHours(1 + hours), later.End(Now));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("-1h")]
    [InlineData("1.5h")]
    [InlineData("31d")]
    [InlineData("")]
    public void SilenceRequest_WithABadDuration_NamesDuration(string duration)
    {
        var errors = Silence(duration).Check(Now);
        Assert.Equal(["duration"], errors.Keys.ToArray());
    }

    [Fact]
    public void SilenceRequest_NeedsExactlyOneOfEndsAtAndDuration()
    {
        var both = Silence("1h", Now.AddHours(1)).Check(Now);
        Assert.Equal(["duration", "endsAt"], both.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["endsAt"], Silence().Check(Now).Keys.ToArray());

        // The existing form is unchanged.
        Assert.Empty(Silence(endsAt: Now.AddHours(2)).Check(Now));
        Assert.Equal(Now.AddHours(2), Silence(endsAt: Now.AddHours(2)).End(Now));
    }

    [Fact]
    public void SilenceRequest_DurationIsReadFromJson_AndUnknownFieldsStillFail()
    {
        var request = JsonSerializer.Deserialize<SilenceRequest>(
            """{"matchers": {"alertname": "x"}, "duration": "4h", "comment": "load test"}""", AlertingJson.Options)!;
        Assert.Equal("4h", request.Duration);
        Assert.Empty(request.Check(Now));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SilenceRequest>("""{"durationn": "4h"}""", AlertingJson.Options));
    }

    [Fact]
    public void Actor_IsTheCallingKeysName()
    {
        var identity = new ApiKeyIdentity("ops-console", [ApiRoles.Admin, ApiRoles.Read]);
        var user = new ClaimsPrincipal(new ClaimsIdentity(identity.Claims, ApiKeyAuthenticationHandler.SchemeName));
        Assert.Equal("ops-console", AlertAudit.Actor(user));
        Assert.Throws<InvalidOperationException>(() => AlertAudit.Actor(new ClaimsPrincipal(new ClaimsIdentity())));
    }

    [Fact]
    public void RuleDetail_SummarisesTheRule_InCamelCase()
    {
        var rule = new AlertRule
        {
            Id = "api-latency-p95",
            Name = "API p95 latency",
            Kind = RuleKinds.Threshold,
            Severity = Severities.Critical,
            Select = new MetricSelector { Metric = "api_response_time" },
            Aggregate = "p95",
            Window = TimeSpan.FromMinutes(5),
            Op = ">",
            Threshold = 800,
        };

        using var detail = JsonDocument.Parse(AlertAudit.Detail(rule));
        Assert.Equal("API p95 latency", detail.RootElement.GetProperty("name").GetString());
        Assert.Equal("threshold", detail.RootElement.GetProperty("kind").GetString());
        Assert.Equal("critical", detail.RootElement.GetProperty("severity").GetString());
        Assert.True(detail.RootElement.GetProperty("enabled").GetBoolean());
        Assert.Equal("p95(api_response_time) over 5m > 800", detail.RootElement.GetProperty("condition").GetString());
    }

    [Fact]
    public void SilenceDetail_HasItsMatchersTimesAndComment()
    {
        var silence = new Silence(Guid.NewGuid(), new() { ["team"] = "web" }, Now, Now.AddHours(4), "deploy", "admin", Now);
        using var created = JsonDocument.Parse(AlertAudit.Detail(silence));
        Assert.Equal("web", created.RootElement.GetProperty("matchers").GetProperty("team").GetString());
        Assert.Equal(Now.AddHours(4), created.RootElement.GetProperty("endsAt").GetDateTimeOffset());
        Assert.Equal("deploy", created.RootElement.GetProperty("comment").GetString());

        using var expired = JsonDocument.Parse(AlertAudit.Detail(silence, Now.AddHours(1)));
        Assert.Equal(Now.AddHours(4), expired.RootElement.GetProperty("plannedEndsAt").GetDateTimeOffset());
        Assert.Equal(Now.AddHours(1), expired.RootElement.GetProperty("endsAt").GetDateTimeOffset());
    }
}
