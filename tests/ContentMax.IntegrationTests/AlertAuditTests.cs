using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// What operators do to alerting from the dashboard, against the real system:
// every change is in /api/alerts/audit under the calling key's name, a
// rejected change leaves nothing there, a rule can be previewed against
// current data without being stored, and a silence can be given a duration.
[Collection(AppHostCollection.Name)]
public class AlertAuditTests(AppHostFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
    private readonly HttpClient _reader = fixture.Client("aggregation", AppHostFixture.ReadKey);
    private readonly HttpClient _admin = fixture.Client("aggregation", AppHostFixture.AdminKey);
    private readonly HttpClient _opsConsole = fixture.Client("aggregation", AppHostFixture.OpsConsoleKey);

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    private static JsonObject ThresholdRule(string? id, string metric, double threshold = 100, string window = "10s")
    {
        var rule = new JsonObject
        {
            ["name"] = $"Test {id ?? "preview"}",
            ["kind"] = "threshold",
            ["severity"] = "warning",
            ["select"] = new JsonObject { ["metric"] = metric },
            ["aggregate"] = "max",
            ["window"] = window,
            ["op"] = ">",
            ["threshold"] = threshold,
            ["labels"] = new JsonObject { ["team"] = "tests" },
        };
        if (id is not null) rule["id"] = id;
        return rule;
    }

    private static object Slo(string metric, double objective) => new
    {
        name = "Audited availability",
        objective,
        window = "1d",
        good = new { metric, where = new[] { new { tag = "status", op = "<", value = 500 } } },
        total = new { metric },
    };

    private async Task<List<JsonObject>> AuditAsync(params string[] targets)
    {
        var all = (await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/audit?limit=1000"))!.Select(e => e!.AsObject()).ToList();
        return all.Where(e => targets.Contains(e["target"]!.GetValue<string>())).ToList();
    }

    private static string[] Actions(IEnumerable<JsonObject> entries) => entries.Select(e => e["action"]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task EveryAdminChange_IsAudited_UnderTheCallingKeysName_NewestFirst()
    {
        var ruleId = NewId("audited");
        var metric = MetricsApi.UniqueName();

        // A rule: created, PUT again unchanged (nothing happened, nothing recorded), changed, deleted.
        Assert.Equal(HttpStatusCode.Created, (await _opsConsole.PutAsJsonAsync($"/api/alerts/rules/{ruleId}", ThresholdRule(ruleId, metric))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _opsConsole.PutAsJsonAsync($"/api/alerts/rules/{ruleId}", ThresholdRule(ruleId, metric))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _opsConsole.PutAsJsonAsync($"/api/alerts/rules/{ruleId}", ThresholdRule(ruleId, metric, threshold: 200))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _opsConsole.DeleteAsync($"/api/alerts/rules/{ruleId}")).StatusCode);

        // A silence: created with the plain admin key (named "admin"), ended with the named one.
        var created = await _admin.PostAsJsonAsync("/api/alerts/silences", new
        {
            matchers = new Dictionary<string, string> { ["alertname"] = ruleId },
            duration = "1h",
            comment = "audit test",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var silence = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var silenceId = silence["id"]!.GetValue<string>();
        Assert.Equal("admin", silence["createdBy"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await _opsConsole.DeleteAsync($"/api/alerts/silences/{silenceId}")).StatusCode);

        // An SLO: created, changed, deleted.
        var sloId = NewId("audited-slo");
        Assert.Equal(HttpStatusCode.Created, (await _opsConsole.PutAsJsonAsync($"/api/slos/{sloId}", Slo(metric, 99))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _opsConsole.PutAsJsonAsync($"/api/slos/{sloId}", Slo(metric, 99.5))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _opsConsole.DeleteAsync($"/api/slos/{sloId}")).StatusCode);

        var rule = await AuditAsync(ruleId);
        Assert.Equal(["rule.deleted", "rule.updated", "rule.created"], Actions(rule));
        Assert.All(rule, e => Assert.Equal(AppHostFixture.OpsConsoleName, e["actor"]!.GetValue<string>()));
        Assert.Equal($"max({metric}) over 10s > 100", rule[2]["detail"]!["condition"]!.GetValue<string>());
        Assert.Equal($"max({metric}) over 10s > 200", rule[1]["detail"]!["condition"]!.GetValue<string>());
        Assert.Equal($"Test {ruleId}", rule[0]["detail"]!["name"]!.GetValue<string>());

        var silenced = await AuditAsync(silenceId);
        Assert.Equal(["silence.expired", "silence.created"], Actions(silenced));
        Assert.Equal([AppHostFixture.OpsConsoleName, "admin"], silenced.Select(e => e["actor"]!.GetValue<string>()).ToArray());
        Assert.Equal(ruleId, silenced[1]["detail"]!["matchers"]!["alertname"]!.GetValue<string>());
        Assert.Equal("audit test", silenced[1]["detail"]!["comment"]!.GetValue<string>());
        Assert.Equal(silence["endsAt"]!.GetValue<DateTimeOffset>(), silenced[1]["detail"]!["endsAt"]!.GetValue<DateTimeOffset>());
        Assert.True(silenced[0]["detail"]!["endsAt"]!.GetValue<DateTimeOffset>() < silenced[0]["detail"]!["plannedEndsAt"]!.GetValue<DateTimeOffset>());

        var slo = await AuditAsync(sloId);
        Assert.Equal(["slo.deleted", "slo.updated", "slo.created"], Actions(slo));
        Assert.All(slo, e => Assert.Equal(AppHostFixture.OpsConsoleName, e["actor"]!.GetValue<string>()));
        Assert.Equal(99.5, slo[1]["detail"]!["objective"]!.GetValue<double>());

        // Newest first, by time and then id.
        var everything = (await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/audit?limit=1000"))!.Select(e => e!.AsObject()).ToList();
        Assert.Equal(everything.OrderByDescending(e => e["at"]!.GetValue<DateTimeOffset>()).ThenByDescending(e => e["id"]!.GetValue<long>()).Select(e => e["id"]!.GetValue<long>()),
            everything.Select(e => e["id"]!.GetValue<long>()));
        Assert.Single((await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/audit?limit=1"))!);
    }

    [Fact]
    public async Task ARejectedChange_RecordsNothing()
    {
        var badId = NewId("rejected");
        var bad = ThresholdRule(badId, "1bad");
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PutAsJsonAsync($"/api/alerts/rules/{badId}", bad)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PutAsJsonAsync($"/api/alerts/rules/other-{badId}", ThresholdRule(badId, MetricsApi.UniqueName()))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _admin.DeleteAsync("/api/alerts/rules/critical-errors")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/alerts/rules/{badId}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PutAsJsonAsync($"/api/slos/{badId}", Slo(MetricsApi.UniqueName(), 100))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _admin.DeleteAsync("/api/slos/api-availability")).StatusCode);
        var unknownSilence = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/alerts/silences/{unknownSilence}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("/api/alerts/silences", new
        {
            matchers = new Dictionary<string, string> { ["alertname"] = badId },
            duration = "1h",
            endsAt = DateTimeOffset.UtcNow.AddHours(1),
            comment = "both",
        })).StatusCode);

        Assert.Empty(await AuditAsync(badId, $"other-{badId}", "critical-errors", "api-availability", unknownSilence));
        Assert.DoesNotContain((await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/audit?limit=1000"))!,
            e => e!["detail"]!.ToJsonString().Contains(badId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheReadKey_ReadsTheAudit_ButCannotPreviewOrChangeAnything()
    {
        var id = NewId("read-only");
        var rule = ThresholdRule(id, MetricsApi.UniqueName());
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.PostAsJsonAsync("/api/alerts/rules/preview", rule)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.PutAsJsonAsync($"/api/alerts/rules/{id}", rule)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.DeleteAsync($"/api/alerts/rules/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.DeleteAsync($"/api/alerts/silences/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.PutAsJsonAsync($"/api/slos/{id}", Slo(MetricsApi.UniqueName(), 99))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.DeleteAsync($"/api/slos/{id}")).StatusCode);
        Assert.Empty(await AuditAsync(id));

        Assert.Equal(HttpStatusCode.OK, (await _reader.GetAsync("/api/alerts/audit")).StatusCode);
        using var anonymous = fixture.Client("aggregation", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/alerts/audit")).StatusCode);
        foreach (var limit in new[] { "0", "1001", "-5" })
        {
            var response = await _reader.GetAsync($"/api/alerts/audit?limit={limit}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.ProblemAsync())["errors"]!.AsObject().ContainsKey("limit"));
        }
    }

    [Fact]
    public async Task Preview_JudgesTheRuleOnceOverCurrentData_AndStoresNothing()
    {
        var metric = MetricsApi.UniqueName();
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new[] { new { metric, value = 300 }, new { metric, value = 500 } })).StatusCode);
        var rule = ThresholdRule(id: null, metric, window: "1h");

        // The points reach the database a moment after ingestion accepted them.
        var preview = await Eventually.UntilAsync(async () =>
            {
                var response = await _admin.PostAsJsonAsync("/api/alerts/rules/preview", rule);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            },
            p => p["value"]?.GetValue<double>() == 500, Patience, p => p.ToJsonString(), TimeSpan.FromMilliseconds(250));
        Assert.True(preview["wouldFire"]!.GetValue<bool>());
        Assert.Equal($"max({metric}) over 1h > 100", preview["condition"]!.GetValue<string>());
        Assert.Null(preview["error"]);
        Assert.Equal(["value", "wouldFire", "condition", "error"], preview.Select(p => p.Key).ToArray());

        // Above the threshold it would not fire; the value is the same.
        var id = NewId("previewed");
        var quiet = ThresholdRule(id, metric, threshold: 1000, window: "1h");
        var high = (await (await _admin.PostAsJsonAsync("/api/alerts/rules/preview", quiet)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(high["wouldFire"]!.GetValue<bool>());
        Assert.Equal(500, high["value"]!.GetValue<double>());

        // A metric with no points has nothing to judge: no value, no fire.
        var empty = (await (await _admin.PostAsJsonAsync("/api/alerts/rules/preview", ThresholdRule(null, MetricsApi.UniqueName()))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Null(empty["value"]);
        Assert.False(empty["wouldFire"]!.GetValue<bool>());

        // A health rule is judged from the health last recorded.
        var health = new JsonObject { ["id"] = NewId("health-preview"), ["name"] = "h", ["kind"] = "health", ["check"] = "external:" + id, ["labels"] = new JsonObject() };
        var judged = (await (await _admin.PostAsJsonAsync("/api/alerts/rules/preview", health)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(0, judged["value"]!.GetValue<double>());
        Assert.False(judged["wouldFire"]!.GetValue<bool>());
        Assert.Equal($"health check external:{id} is unhealthy", judged["condition"]!.GetValue<string>());

        // Nothing was stored: no rule, no state after a few evaluation cycles, no history, no audit.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(HttpStatusCode.NotFound, (await _reader.GetAsync($"/api/alerts/rules/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _reader.GetAsync("/api/alerts/rules/preview")).StatusCode);
        var rules = (await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/rules"))!;
        Assert.DoesNotContain(rules, r => r!["rule"]!["select"]?["metric"]?.GetValue<string>() == metric);
        var alerts = (await _reader.GetFromJsonAsync<JsonObject>("/api/alerts"))!["alerts"]!.AsArray();
        Assert.DoesNotContain(alerts, a => a!["id"]!.GetValue<string>() is var alertId && (alertId == id || alertId == "preview" || alertId == health["id"]!.GetValue<string>()));
        Assert.Empty((await _reader.GetFromJsonAsync<JsonArray>($"/api/alerts/history?rule={id}"))!);
        Assert.Empty((await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/history?rule=preview"))!);
        Assert.Empty(await AuditAsync(id, "preview", health["id"]!.GetValue<string>()));
    }

    // A form shows each error beside its field: PUT and preview answer the
    // same problem+json, keyed by the rule body's JSON property names.
    [Fact]
    public async Task ABadRule_IsRejectedFieldByField_TheSameByPutAndPreview()
    {
        var id = NewId("fields");
        var bad = ThresholdRule(id, "1bad", window: "1s");
        bad["for"] = "2d";
        bad["keepFiringFor"] = "2d";
        bad["severity"] = "urgent";
        bad["aggregate"] = "p42";
        string[] expected = ["aggregate", "for", "keepFiringFor", "select.metric", "severity", "window"];

        var put = await _admin.PutAsJsonAsync($"/api/alerts/rules/{id}", bad);
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var putErrors = (await put.ProblemAsync())["errors"]!.AsObject();
        Assert.Equal(expected, putErrors.Select(e => e.Key).Order(StringComparer.Ordinal).ToArray());

        var preview = await _admin.PostAsJsonAsync("/api/alerts/rules/preview", bad);
        Assert.Equal(HttpStatusCode.BadRequest, preview.StatusCode);
        var previewErrors = (await preview.ProblemAsync())["errors"]!.AsObject();
        Assert.Equal(putErrors.ToJsonString(), previewErrors.ToJsonString());

        // A value of the wrong type is named by its field too.
        var typed = ThresholdRule(id, MetricsApi.UniqueName());
        typed["threshold"] = "high";
        foreach (var response in new[] { await _admin.PutAsJsonAsync($"/api/alerts/rules/{id}", typed), await _admin.PostAsJsonAsync("/api/alerts/rules/preview", typed) })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(["threshold"], (await response.ProblemAsync())["errors"]!.AsObject().Select(e => e.Key).ToArray());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _reader.GetAsync($"/api/alerts/rules/{id}")).StatusCode);
    }

    [Fact]
    public async Task ASilence_ForADuration_EndsThatLongAfterNow()
    {
        var id = NewId("for-a-while");
        var before = DateTimeOffset.UtcNow;
        var response = await _admin.PostAsJsonAsync("/api/alerts/silences", new
        {
            matchers = new Dictionary<string, string> { ["alertname"] = id },
            duration = "4h",
            comment = "deploy window",
        });
        var after = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var silence = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("active", silence["state"]!.GetValue<string>());
        Assert.InRange(silence["endsAt"]!.GetValue<DateTimeOffset>(), before.AddHours(4).AddSeconds(-1), after.AddHours(4).AddSeconds(1));
        Assert.Equal(TimeSpan.FromHours(4), silence["endsAt"]!.GetValue<DateTimeOffset>() - silence["startsAt"]!.GetValue<DateTimeOffset>());
        var listed = (await _reader.GetFromJsonAsync<JsonArray>("/api/alerts/silences"))!;
        Assert.Contains(listed, s => s!["id"]!.GetValue<string>() == silence["id"]!.GetValue<string>());

        foreach (var (body, fields) in new (object Body, string[] Fields)[]
                 {
                     (new { matchers = new Dictionary<string, string> { ["alertname"] = id }, duration = "soon", comment = "x" }, ["duration"]),
                     (new { matchers = new Dictionary<string, string> { ["alertname"] = id }, duration = "31d", comment = "x" }, ["duration"]),
                     (new { matchers = new Dictionary<string, string> { ["alertname"] = id }, duration = "1h", endsAt = DateTimeOffset.UtcNow.AddHours(1), comment = "x" }, ["duration", "endsAt"]),
                     (new { matchers = new Dictionary<string, string> { ["alertname"] = id }, comment = "x" }, ["endsAt"]),
                 })
        {
            var rejected = await _admin.PostAsJsonAsync("/api/alerts/silences", body);
            Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
            Assert.Equal(fields, (await rejected.ProblemAsync())["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal).ToArray());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/alerts/silences/{silence["id"]}")).StatusCode);
    }
}
