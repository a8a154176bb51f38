using ContentMax.Contracts.Http;
using System.Text.Json.Nodes;
using ContentMax.Alerting;
using ContentMax.Alerting.Notifications;
using ContentMax.Alerting.Rules;

namespace ContentMax.UnitTests.Alerting;

public class AlertNotificationTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static AlertSnapshot Alert(string kind = "firing") => new()
    {
        RuleId = "api-latency-p95",
        Name = "API p95 latency <above> 800 ms & more",
        Severity = "warning",
        Kind = kind,
        Summary = "p95 is high",
        Value = 912.5,
        Condition = "p95(api_response_time) over 5m > 800",
        Labels = new() { ["alertname"] = "api-latency-p95", ["severity"] = "warning", ["team"] = "web" },
        StartsAt = Start,
        EndsAt = kind == "resolved" ? Start.AddMinutes(20) : null,
        RunbookUrl = "http://localhost:5180/runbooks/api-latency",
        DashboardUrl = "http://localhost:5180/?tab=alerts",
    };

    [Fact]
    public void Generic_CarriesTheWholeAlert()
    {
        var body = NotificationFormats.Render("generic", Alert(), "team-webhook");

        Assert.Equal(1, body["version"]!.GetValue<int>());
        Assert.Equal("firing", body["status"]!.GetValue<string>());
        Assert.Equal(912.5, body["alert"]!["value"]!.GetValue<double>());
        Assert.Equal("web", body["alert"]!["labels"]!["team"]!.GetValue<string>());
        Assert.Null(body["alert"]!["endsAt"]);
    }

    [Fact]
    public void Repeat_IsStillFiring()
    {
        Assert.Equal("firing", NotificationFormats.Render("generic", Alert("repeat"), "r")["status"]!.GetValue<string>());
        Assert.Contains("[STILL FIRING]", NotificationFormats.Render("slack", Alert("repeat"), "r")["text"]!.GetValue<string>());
    }

    [Fact]
    public void Slack_EscapesMrkdwnAndLinksTheRunbook()
    {
        var body = NotificationFormats.Render("slack", Alert(), "team-slack");

        Assert.Equal(":rotating_light: [FIRING] warning: API p95 latency <above> 800 ms & more", body["text"]!.GetValue<string>());
        var section = body["blocks"]![0]!["text"]!["text"]!.GetValue<string>();
        Assert.Contains("&lt;above&gt; 800 ms &amp; more", section);
        Assert.Contains("(now 912.5)", section);
        var context = body["blocks"]![1]!["elements"]![0]!["text"]!.GetValue<string>();
        Assert.Contains("<http://localhost:5180/runbooks/api-latency|Runbook>", context);
    }

    [Fact]
    public void AlertmanagerWebhook_FollowsTheWebhookVersion4Shape()
    {
        var firing = NotificationFormats.Render("alertmanager-webhook", Alert(), "am");
        var resolved = NotificationFormats.Render("alertmanager-webhook", Alert("resolved"), "am");

        Assert.Equal("4", firing["version"]!.GetValue<string>());
        Assert.Equal("{}:{alertname=\"api-latency-p95\"}", firing["groupKey"]!.GetValue<string>());
        Assert.Equal("am", firing["receiver"]!.GetValue<string>());
        var alert = firing["alerts"]![0]!;
        Assert.Equal("0001-01-01T00:00:00Z", alert["endsAt"]!.GetValue<string>());
        Assert.Equal("http://localhost:5180/runbooks/api-latency", alert["annotations"]!["runbook_url"]!.GetValue<string>());
        Assert.Equal(16, alert["fingerprint"]!.GetValue<string>().Length);
        Assert.Equal(alert["fingerprint"]!.GetValue<string>(), resolved["alerts"]![0]!["fingerprint"]!.GetValue<string>());
        Assert.Equal("resolved", resolved["status"]!.GetValue<string>());
        Assert.Equal(Start.AddMinutes(20), DateTimeOffset.Parse(resolved["alerts"]![0]!["endsAt"]!.GetValue<string>()));
    }

    // What Alertmanager's POST /api/v2/alerts takes: an array of postable alerts.
    [Fact]
    public void AlertmanagerApi_PostsAlertsThatEndUnlessHeardOfAgain_AndEndAtTheirResolve()
    {
        var now = Start.AddMinutes(3);
        var firing = Assert.Single(NotificationFormats.RenderAlertmanagerApi(Alert(), now))!;
        var resolved = Assert.Single(NotificationFormats.RenderAlertmanagerApi(Alert("resolved"), now))!;

        Assert.Equal("api-latency-p95", firing["labels"]!["alertname"]!.GetValue<string>());
        Assert.Equal(Start, DateTimeOffset.Parse(firing["startsAt"]!.GetValue<string>()));
        Assert.Equal(now + NotificationFormats.AlertmanagerHold, DateTimeOffset.Parse(firing["endsAt"]!.GetValue<string>()));
        Assert.Equal(Start.AddMinutes(20), DateTimeOffset.Parse(resolved["endsAt"]!.GetValue<string>()));
        Assert.Equal("http://localhost:5180/runbooks/api-latency", firing["annotations"]!["runbook_url"]!.GetValue<string>());
        Assert.False(firing.AsObject().ContainsKey("status"));
        Assert.Equal("http://am:9093/api/v2/alerts",
            NotificationFormats.Target(new ReceiverOptions { Format = "alertmanager-api", Url = "http://am:9093/" }));
        Assert.Equal("http://hooks/x", NotificationFormats.Target(new ReceiverOptions { Format = "alertmanager-webhook", Url = "http://hooks/x" }));
    }

    [Fact]
    public void Receivers_FilterBySeverityAndLabels()
    {
        var rule = new AlertRule { Id = "r", Severity = Severities.Warning };
        var labels = new Dictionary<string, string> { ["team"] = "web" };

        Assert.True(new ReceiverOptions().Accepts(rule, labels));
        Assert.False(new ReceiverOptions { MinSeverity = Severities.Critical }.Accepts(rule, labels));
        Assert.True(new ReceiverOptions { Matchers = new() { ["team"] = "web" } }.Accepts(rule, labels));
        Assert.False(new ReceiverOptions { Matchers = new() { ["team"] = "data" } }.Accepts(rule, labels));
    }

    [Fact]
    public void Silence_MatchesOnEveryMatcher_OnlyWhileActive()
    {
        var silence = new Silence(Guid.NewGuid(), new() { ["team"] = "web", ["severity"] = "warning" }, Start, Start.AddHours(1), "deploy", "api-key", Start);
        var labels = new Dictionary<string, string> { ["team"] = "web", ["severity"] = "warning", ["alertname"] = "x" };

        Assert.True(silence.Matches(labels));
        Assert.False(silence.Matches(new Dictionary<string, string> { ["team"] = "web" }));
        Assert.True(silence.IsActive(Start.AddMinutes(30)));
        Assert.False(silence.IsActive(Start.AddHours(1)));
        Assert.Equal("pending", silence.State(Start.AddMinutes(-1)));
        Assert.Equal("expired", silence.State(Start.AddHours(2)));
        Assert.False((silence with { Matchers = [] }).Matches(labels));
    }

    [Fact]
    public void SilenceRequest_IsTimeBoxed()
    {
        var ok = new SilenceRequest { Matchers = new() { ["alertname"] = "x" }, EndsAt = Start.AddHours(2), Comment = "maintenance" };
        Assert.Empty(ok.Check(Start));
        Assert.Contains("endsAt", (ok with { EndsAt = Start.AddDays(31) }).Check(Start).Keys);
        Assert.Contains("endsAt", (ok with { EndsAt = Start.AddMinutes(-1) }).Check(Start).Keys);
        Assert.Contains("matchers", (ok with { Matchers = [] }).Check(Start).Keys);
        Assert.Contains("comment", (ok with { Comment = " " }).Check(Start).Keys);
    }

    [Fact]
    public void RunbookUrls_PointAtTheDashboardsRunbookPages()
    {
        Assert.Equal("http://localhost:5180/runbooks/api-latency", new AlertingOptions { DashboardUrl = "http://localhost:5180/" }.RunbookUrl("api-latency"));
        Assert.Equal("https://wiki.example/rb", new AlertingOptions { DashboardUrl = "http://localhost:5180" }.RunbookUrl("https://wiki.example/rb"));
        Assert.Equal("docs/runbooks/api-latency.md", new AlertingOptions().RunbookUrl("api-latency"));
    }
}
