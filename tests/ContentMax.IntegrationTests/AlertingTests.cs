using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ContentMax.Contracts;

namespace ContentMax.IntegrationTests;

// Alert rules end to end: metrics that breach a rule → evaluator → state in
// Postgres → one notification per receiver and format, then one resolve.
[Collection(AppHostCollection.Name)]
public class AlertingTests(AppHostFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
    private readonly HttpClient _reader = fixture.Client("aggregation", AppHostFixture.ReadKey);
    private readonly HttpClient _admin = fixture.Client("aggregation", AppHostFixture.AdminKey);

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    private async Task PutRuleAsync(JsonObject rule)
    {
        var response = await _admin.PutAsJsonAsync($"/api/alerts/rules/{rule["id"]}", rule);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static JsonObject ThresholdRule(string id, string metric, JsonObject? labels = null, string window = "10s") => new()
    {
        ["id"] = id,
        ["name"] = $"Test {id}",
        ["kind"] = "threshold",
        ["severity"] = "critical",
        ["summary"] = "max over the window above 100",
        ["select"] = new JsonObject { ["metric"] = metric },
        ["aggregate"] = "max",
        ["window"] = window,
        ["op"] = ">",
        ["threshold"] = 100,
        ["labels"] = labels ?? new JsonObject { ["team"] = "tests" },
        ["runbook"] = "api-latency",
    };

    private async Task<JsonObject> AlertAsync(string id)
    {
        var body = (await _reader.GetFromJsonAsync<JsonObject>("/api/alerts"))!;
        return body["alerts"]!.AsArray().Select(a => a!.AsObject()).Single(a => a["id"]!.GetValue<string>() == id);
    }

    private async Task<JsonObject> WaitForStateAsync(string id, string state) =>
        await Eventually.UntilAsync(() => AlertAsync(id), a => a["state"]!.GetValue<string>() == state, Patience,
            a => $"alert {id} stayed {a["state"]} instead of becoming {state}: {a}", TimeSpan.FromMilliseconds(250));

    private Task<List<FakeWebhookReceiver.Delivery>> WaitForDeliveriesAsync(string path, string id, Func<List<FakeWebhookReceiver.Delivery>, bool> done, string what) =>
        Eventually.UntilAsync(() => fixture.Webhooks.For(path, id), done, Patience,
            seen => $"{path} received {seen.Count} notifications for {id}, waiting for {what}", TimeSpan.FromMilliseconds(250));

    private static string Status(FakeWebhookReceiver.Delivery d) => d.Path switch
    {
        "slack" => d.Body["text"]!.GetValue<string>().Contains("[RESOLVED]") ? "resolved" : "firing",
        _ => d.Body["status"]!.GetValue<string>(),
    };

    // A Slack webhook URL is a credential: its token travels in the path. After
    // an alert went there, the token is in no log line, no span or breadcrumb
    // that reached Sentry (traces sampled at 100% here), and no API answer.
    [Fact]
    public async Task AReceiversUrl_AppearsInNoLogSpanBreadcrumbOrApiAnswer()
    {
        await using var logs = ResourceLogs.Capture(fixture.App, "aggregation");
        var id = NewId("secret-url");
        var metric = MetricsApi.UniqueName();
        await PutRuleAsync(ThresholdRule(id, metric));
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric, value = 500 })).StatusCode);
        await WaitForDeliveriesAsync("slack", id, seen => seen.Count >= 1, "firing");
        Assert.Contains(fixture.Webhooks.Paths, p => p.EndsWith("/" + AppHostFixture.SlackToken, StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(6)); // Sentry's SDK sends transactions and events in the background.

        var notifications = await _admin.GetStringAsync("/api/alerts/notifications");
        Assert.Contains("team-slack", notifications);
        Assert.DoesNotContain(AppHostFixture.SlackToken, notifications);
        Assert.DoesNotContain(AppHostFixture.SlackToken, await _admin.GetStringAsync($"/api/alerts"));
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(AppHostFixture.SlackToken, StringComparison.Ordinal));
        Assert.NotEmpty(fixture.Sentry.Envelopes);
        Assert.DoesNotContain(fixture.Sentry.Envelopes, e => e.Text.Contains(AppHostFixture.SlackToken, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Sentry.Envelopes, e => e.Text.Contains("/slack/services/", StringComparison.Ordinal));
    }

    // SLO counting that cannot finish (its table locked against writes, as a
    // long-running migration or a stuck statement would) gives up after its
    // time limit with an error on that SLO's burn rules; every other rule is
    // judged as usual in the same cycles.
    [Fact]
    public async Task AnSloThatCannotBeCounted_GivesUpAlone_AndOtherRulesStillFire()
    {
        await using var connection = await fixture.OpenDatabaseAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE slo_minutes IN EXCLUSIVE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var id = NewId("despite-slo");
        var metric = MetricsApi.UniqueName();
        await PutRuleAsync(ThresholdRule(id, metric));
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric, value = 500 })).StatusCode);

        var firing = await WaitForStateAsync(id, "firing");
        Assert.Null(firing["error"]?.GetValue<string>());
        var body = await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>("/api/alerts")!,
            b => b!["alerts"]!.AsArray().Any(a => a!["slo"] is not null && a["error"]?.GetValue<string>()?.Contains("timed out after 2s") == true),
            Patience, b => $"no SLO burn rule shows the timeout: {b}");
        output.WriteLine(string.Join("\n", body!["alerts"]!.AsArray().Where(a => a!["slo"] is not null).Select(a => $"{a!["id"]}: {a["error"]}")));

        await transaction.RollbackAsync();
        // Once the table is free again, the SLOs are counted and their errors clear.
        await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>("/api/alerts")!,
            b => b!["alerts"]!.AsArray().Where(a => a!["slo"] is not null).All(a => a!["error"] is null),
            Patience, b => $"an SLO burn rule still shows an error: {b}");
    }

    // A tagged rule over more values than ExactLimit (1000 here) reads a sketch
    // built in SQL, not every raw value; its p95 stays within the sketch's error.
    [Fact]
    public async Task ATaggedRuleOverManyValues_IsJudgedFromASketch_WithinOnePercent()
    {
        var id = NewId("tagged-sketch");
        var metric = MetricsApi.UniqueName();
        var values = Enumerable.Range(1, 1500).Select(i => Math.Round(Math.Exp(i / 300.0), 3)).ToArray();
        var rule = ThresholdRule(id, metric, window: "2m");
        rule["select"] = new JsonObject { ["metric"] = metric, ["tags"] = new JsonObject { ["route"] = "/big" } };
        rule["aggregate"] = "p95";
        rule["threshold"] = 0;
        await PutRuleAsync(rule);
        foreach (var chunk in values.Chunk(500))
        {
            Assert.Equal(HttpStatusCode.Accepted,
                (await _ingestion.PostAsync(chunk.Select(v => new { metric, value = v, tags = new { route = "/big" } }).Concat(
                    chunk.Select(v => new { metric, value = v * 1000, tags = new { route = "/other" } })).ToArray())).StatusCode);
        }

        var exact = values.Order().ToArray()[(int)Math.Ceiling(0.95 * values.Length) - 1];
        var firing = await Eventually.UntilAsync(() => AlertAsync(id),
            a => a["state"]!.GetValue<string>() == "firing" && a["value"] is not null && Math.Abs(a["value"]!.GetValue<double>() - exact) / exact < 0.05,
            Patience, a => $"alert {id}: {a} (exact p95 {exact})", TimeSpan.FromMilliseconds(250));
        Assert.InRange(firing["value"]!.GetValue<double>(), exact * 0.99, exact * 1.01);
    }

    // Delivered into a real Alertmanager (POST /api/v2/alerts): it shows the
    // alert with its labels while it fires (re-sent, so Alertmanager keeps it),
    // and no longer once it resolves.
    [Fact]
    public async Task AFiringRule_ShowsInARealAlertmanager_WithItsLabels_ThenResolves()
    {
        var id = NewId("am");
        var metric = MetricsApi.UniqueName();
        await PutRuleAsync(ThresholdRule(id, metric, new JsonObject { ["team"] = "tests", ["route"] = "alertmanager" }, window: "15s"));
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric, value = 500 })).StatusCode);
        using var alertmanager = new HttpClient { BaseAddress = fixture.Alertmanager.BaseUrl };

        async Task<JsonObject?> InAlertmanagerAsync() =>
            (await alertmanager.GetFromJsonAsync<JsonArray>("/api/v2/alerts"))!
                .Select(a => a!.AsObject()).FirstOrDefault(a => a["labels"]!["alertname"]?.GetValue<string>() == id);

        var shown = await Eventually.UntilAsync<JsonObject?>(() => InAlertmanagerAsync(), a => a is not null, Patience,
            _ => $"alert {id} never reached Alertmanager:\n{fixture.Alertmanager.RecentLog}", TimeSpan.FromMilliseconds(500));
        Assert.Equal("critical", shown!["labels"]!["severity"]!.GetValue<string>());
        Assert.Equal("tests", shown["labels"]!["team"]!.GetValue<string>());
        Assert.Equal("alertmanager", shown["labels"]!["route"]!.GetValue<string>());
        Assert.Equal("active", shown["status"]!["state"]!.GetValue<string>());
        Assert.Contains("runbook", shown["annotations"]!["runbook_url"]!.GetValue<string>());

        // Re-sent while it fires: Alertmanager's updatedAt moves on.
        var first = shown["updatedAt"]!.GetValue<DateTimeOffset>();
        await Eventually.UntilAsync<JsonObject?>(() => InAlertmanagerAsync(), a => a is not null && a["updatedAt"]!.GetValue<DateTimeOffset>() > first, TimeSpan.FromSeconds(20),
            a => $"not re-sent: {a}", TimeSpan.FromMilliseconds(500));

        // The point leaves the 15 s window, the rule resolves, and Alertmanager no longer lists it as active.
        await WaitForStateAsync(id, "resolved");
        await Eventually.UntilAsync<JsonObject?>(() => InAlertmanagerAsync(), a => a is null, Patience, a => $"still in Alertmanager: {a}", TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task BreachingRule_NotifiesOnceInEveryFormat_ThenResolvesOnce()
    {
        var id = NewId("breach");
        var metric = MetricsApi.UniqueName();
        await PutRuleAsync(ThresholdRule(id, metric));

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric, value = 500 })).StatusCode);

        var firing = await WaitForStateAsync(id, "firing");
        Assert.Equal(500, firing["value"]!.GetValue<double>());
        Assert.EndsWith("/runbooks/api-latency", firing["runbookUrl"]!.GetValue<string>());

        // The point leaves the 10 s window, the condition clears, the alert resolves.
        foreach (var path in new[] { "generic", "slack", "alertmanager" })
        {
            await WaitForDeliveriesAsync(path, id, seen => seen.Count >= 2, "firing and resolved");
        }

        // A few more cycles: nothing else may arrive.
        await Task.Delay(TimeSpan.FromSeconds(3));
        foreach (var path in new[] { "generic", "slack", "alertmanager" })
        {
            var seen = fixture.Webhooks.For(path, id);
            Assert.Equal(["firing", "resolved"], seen.Select(Status).ToArray());
        }

        var generic = fixture.Webhooks.For("generic", id);
        Assert.Equal("critical", generic[0].Body["alert"]!["severity"]!.GetValue<string>());
        Assert.Equal(500, generic[0].Body["alert"]!["value"]!.GetValue<double>());
        Assert.Equal($"max({metric}) over 10s > 100", generic[0].Body["alert"]!["condition"]!.GetValue<string>());
        Assert.Equal("tests", generic[0].Body["alert"]!["labels"]!["team"]!.GetValue<string>());
        Assert.NotNull(generic[1].Body["alert"]!["endsAt"]);

        var slack = fixture.Webhooks.For("slack", id);
        Assert.StartsWith(":rotating_light: [FIRING] critical: Test " + id, slack[0].Body["text"]!.GetValue<string>());
        Assert.Contains("|Runbook>", slack[0].Body["blocks"]![1]!["elements"]![0]!["text"]!.GetValue<string>());
        Assert.StartsWith(":white_check_mark: [RESOLVED]", slack[1].Body["text"]!.GetValue<string>());

        var alertmanager = fixture.Webhooks.For("alertmanager", id);
        Assert.All(alertmanager, d => Assert.Equal(AppHostFixture.AlertmanagerToken, d.Authorization));
        var firingGroup = alertmanager[0].Body;
        Assert.Equal("4", firingGroup["version"]!.GetValue<string>());
        Assert.Equal("alertmanager", firingGroup["receiver"]!.GetValue<string>());
        Assert.Equal($"{{}}:{{alertname=\"{id}\"}}", firingGroup["groupKey"]!.GetValue<string>());
        var firingAlert = firingGroup["alerts"]![0]!;
        Assert.Equal(id, firingAlert["labels"]!["alertname"]!.GetValue<string>());
        Assert.Equal("0001-01-01T00:00:00Z", firingAlert["endsAt"]!.GetValue<string>());
        Assert.EndsWith("/runbooks/api-latency", firingAlert["annotations"]!["runbook_url"]!.GetValue<string>());
        var resolvedAlert = alertmanager[1].Body["alerts"]![0]!;
        Assert.Equal("resolved", resolvedAlert["status"]!.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(resolvedAlert["endsAt"]!.GetValue<string>()) > DateTimeOffset.Parse(resolvedAlert["startsAt"]!.GetValue<string>()));

        // The history keeps every transition, and every delivery is recorded as delivered.
        var history = (await _reader.GetFromJsonAsync<JsonArray>($"/api/alerts/history?rule={id}"))!;
        Assert.Equal(["inactive>firing", "firing>resolved"],
            history.Reverse().Select(h => $"{h!["from"]}>{h["to"]}").Take(2).ToArray());
        var deliveries = (await _reader.GetFromJsonAsync<JsonArray>($"/api/alerts/notifications?rule={id}"))!;
        Assert.Equal(6, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal("delivered", d!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task FailingReceiver_IsRetried_AndItsFailuresAreRecorded()
    {
        var id = NewId("flaky");
        var metric = MetricsApi.UniqueName();
        fixture.Webhooks.FailNext("flaky", 2);
        await PutRuleAsync(ThresholdRule(id, metric, new JsonObject { ["route"] = "flaky" }, window: "1h"));

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric, value = 1000 })).StatusCode);

        await WaitForDeliveriesAsync("flaky", id, seen => seen.Count >= 1, "the retried firing notification");
        var record = await Eventually.UntilAsync(
            async () => (await _reader.GetFromJsonAsync<JsonArray>($"/api/alerts/notifications?rule={id}"))!
                .Select(n => n!.AsObject()).Single(n => n["receiver"]!.GetValue<string>() == "flaky"),
            n => n["status"]!.GetValue<string>() == "delivered", Patience, n => n.ToJsonString());
        Assert.Equal(3, record["attempts"]!.GetValue<int>());
        Assert.Equal("HTTP 500", record["lastError"]!.GetValue<string>());
        Assert.Single(fixture.Webhooks.For("flaky", id));

        // The flaky receiver has a matcher: it only ever gets alerts labelled route=flaky.
        Assert.All(fixture.Webhooks.Deliveries.Where(d => d.Path == "flaky"),
            d => Assert.Equal("flaky", d.Body["alert"]!["labels"]!["route"]!.GetValue<string>()));
        Assert.Equal(204, (int)(await _admin.DeleteAsync($"/api/alerts/rules/{id}")).StatusCode);
    }

    [Fact]
    public async Task SilencedAlert_FiresQuietly_AndNotifiesWhenTheSilenceEnds()
    {
        var id = NewId("silenced");
        var metric = MetricsApi.UniqueName();
        var silence = await _admin.PostAsJsonAsync("/api/alerts/silences", new
        {
            matchers = new Dictionary<string, string> { ["alertname"] = id },
            endsAt = DateTimeOffset.UtcNow.AddHours(1),
            comment = "planned maintenance",
        });
        Assert.Equal(HttpStatusCode.Created, silence.StatusCode);
        var silenceId = (await silence.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        await PutRuleAsync(ThresholdRule(id, metric, window: "1h"));
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new { metric, value = 300 })).StatusCode);

        var firing = await WaitForStateAsync(id, "firing");
        Assert.True(firing["silenced"]!.GetValue<bool>());
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Empty(fixture.Webhooks.For("generic", id));

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/alerts/silences/{silenceId}")).StatusCode);
        var delivered = await WaitForDeliveriesAsync("generic", id, seen => seen.Count >= 1, "the firing notification after the silence");
        Assert.Equal("firing", delivered[0].Body["status"]!.GetValue<string>());
        Assert.Equal(204, (int)(await _admin.DeleteAsync($"/api/alerts/rules/{id}")).StatusCode);
    }

    [Fact]
    public async Task HealthRule_FiresFromHealthStatusChanged_AndResolvesWhenHealthy()
    {
        var id = NewId("health");
        var check = "external:" + id;
        await PutRuleAsync(new JsonObject
        {
            ["id"] = id,
            ["name"] = $"Test {id}",
            ["kind"] = "health",
            ["severity"] = "warning",
            ["check"] = check,
            ["for"] = "2s",
            ["labels"] = new JsonObject(),
        });

        await PublishAsync(new HealthStatusChanged { Check = check, Group = "external", PreviousStatus = "healthy", Status = "unhealthy", ChangedAt = DateTimeOffset.UtcNow, Error = "timed out" });
        await WaitForStateAsync(id, "pending");
        await WaitForStateAsync(id, "firing");
        await WaitForDeliveriesAsync("generic", id, seen => seen.Count == 1, "the firing notification");

        await PublishAsync(new HealthStatusChanged { Check = check, Group = "external", PreviousStatus = "unhealthy", Status = "healthy", ChangedAt = DateTimeOffset.UtcNow });
        var seen = await WaitForDeliveriesAsync("generic", id, seen => seen.Count >= 2, "the resolve notification");
        Assert.Equal(["firing", "resolved"], seen.Select(Status).ToArray());
        Assert.Equal(204, (int)(await _admin.DeleteAsync($"/api/alerts/rules/{id}")).StatusCode);
    }

    [Fact]
    public async Task Slo_ReportsSliBudgetAndBurnRates_AndRaisesTheBurnAlertsWhoseWindowsBothBurn()
    {
        var id = NewId("slo");
        var metric = MetricsApi.UniqueName();
        var put = await _admin.PutAsJsonAsync($"/api/slos/{id}", new
        {
            name = "Test availability",
            objective = 99,
            window = "30d",
            good = new { metric, where = new[] { new { tag = "status", op = "<", value = 500 } } },
            total = new { metric },
        });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        // 100 requests, 10 of them failed: SLI 90%, so every window burns at 0.10 / 0.01 = 10x.
        var requests = Enumerable.Range(0, 100).Select(i => new { metric, value = 1, tags = new Dictionary<string, string> { ["status"] = i < 10 ? "503" : "200" } }).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(requests)).StatusCode);

        var report = await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>($"/api/slos/{id}"),
            r => r!["total"]!.GetValue<long>() == 100, Patience, r => r!.ToJsonString());
        Assert.Equal(90, report!["good"]!.GetValue<long>());
        Assert.Equal(0.9, report["sli"]!.GetValue<double>(), 9);
        Assert.Equal(0.01, report["errorBudget"]!.GetValue<double>(), 9);
        Assert.Equal(-9, report["budgetRemaining"]!.GetValue<double>(), 6);
        foreach (var window in new[] { "5m", "30m", "1h", "6h", "3d" })
        {
            Assert.Equal(10, report["burnRates"]![window]!.GetValue<double>(), 6);
        }

        var budget = report["budget"]!.AsArray();
        Assert.InRange(budget.Count, 50, 62);
        Assert.Equal(-9, budget[^1]!["budgetRemaining"]!.GetValue<double>(), 6);
        Assert.Equal(1, budget[0]!["budgetRemaining"]!.GetValue<double>(), 6);

        // 10x is above 6x (6h and 30m) and 1x (3d and 6h), but not 14.4x (1h and 5m).
        await WaitForStateAsync($"slo:{id}:6h-30m", "firing");
        await WaitForStateAsync($"slo:{id}:3d-6h", "firing");
        Assert.Equal("inactive", (await AlertAsync($"slo:{id}:1h-5m"))["state"]!.GetValue<string>());
        var page = await WaitForDeliveriesAsync("generic", $"slo:{id}:6h-30m", seen => seen.Count == 1, "the page");
        Assert.Equal("critical", page[0].Body["alert"]!["severity"]!.GetValue<string>());
        Assert.EndsWith("/runbooks/slo-burn", page[0].Body["alert"]!["runbookUrl"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/slos/{id}")).StatusCode);
    }

    // A recount reads a minute's raw points again only when the minute rollups
    // say its metric gained observations: a counted minute is left as it is on
    // the cycles after (its row is not rewritten), and a late point into it is
    // counted at the next cycle.
    [Fact]
    public async Task Slo_RecountsAMinuteOnlyWhenItsMetricGainedPoints_AndCountsALatePoint()
    {
        var id = NewId("slo-recount");
        var metric = MetricsApi.UniqueName();
        var put = await _admin.PutAsJsonAsync($"/api/slos/{id}", new
        {
            name = "Test recount",
            objective = 99,
            window = "1d",
            good = new { metric, where = new[] { new { tag = "status", op = "<", value = 500 } } },
            total = new { metric },
        });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        var at = DateTimeOffset.UtcNow.AddSeconds(-20);
        var minute = new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        object Request(string status) => new { metric, value = 1, timestamp = at.ToUnixTimeMilliseconds(), tags = new Dictionary<string, string> { ["status"] = status } };
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(Enumerable.Range(0, 20).Select(i => Request(i < 5 ? "503" : "200")).ToArray())).StatusCode);
        await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>($"/api/slos/{id}"), r => r!["total"]!.GetValue<long>() == 20, Patience, r => r!.ToJsonString());

        async Task<(long Good, long Total, long? Source, string Version)> RowAsync()
        {
            await using var connection = await fixture.OpenDatabaseAsync();
            await using var command = new Npgsql.NpgsqlCommand("SELECT good, total, source_count, xmin::text FROM slo_minutes WHERE slo_id = $1 AND bucket = $2", connection)
            {
                Parameters = { new() { Value = id }, new() { Value = minute.UtcDateTime } },
            };
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), $"no slo_minutes row for {minute:O}");
            return (reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.GetString(3));
        }

        var counted = await RowAsync();
        Assert.Equal((15L, 20L, (long?)20), (counted.Good, counted.Total, counted.Source));
        await Task.Delay(TimeSpan.FromSeconds(4)); // four evaluation cycles, each recounting the last minutes
        Assert.Equal(counted, await RowAsync());

        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(Request("500"))).StatusCode);
        await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>($"/api/slos/{id}"), r => r!["total"]!.GetValue<long>() == 21, Patience, r => r!.ToJsonString());
        var recounted = await RowAsync();
        Assert.Equal((15L, 21L, (long?)21), (recounted.Good, recounted.Total, recounted.Source));
        Assert.NotEqual(counted.Version, recounted.Version);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/slos/{id}")).StatusCode);
    }

    [Fact]
    public async Task RulesAndSilences_NeedTheAdminKey_AndBadRulesAreRejectedField_ByField()
    {
        var rule = ThresholdRule(NewId("auth"), MetricsApi.UniqueName());
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.PutAsJsonAsync($"/api/alerts/rules/{rule["id"]}", rule)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reader.PostAsJsonAsync("/api/alerts/silences", new { })).StatusCode);
        using var anonymous = fixture.Client("aggregation", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/alerts")).StatusCode);

        var bad = new JsonObject
        {
            ["id"] = "Not An Id",
            ["name"] = "",
            ["kind"] = "threshold",
            ["severity"] = "urgent",
            ["select"] = new JsonObject { ["metric"] = "1bad" },
            ["aggregate"] = "p42",
            ["window"] = "1s",
            ["op"] = "=>",
            ["threshold"] = 1,
            ["labels"] = new JsonObject(),
        };
        var response = await _admin.PutAsJsonAsync("/api/alerts/rules/not-an-id", bad);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ProblemAsync())["errors"]!.AsObject();
        foreach (var field in new[] { "id", "name", "severity", "select.metric", "aggregate", "window", "op" })
        {
            Assert.True(errors.ContainsKey(field), $"no error for {field}: {errors}");
        }

        var typo = await _admin.PutAsync("/api/alerts/rules/typo", new StringContent(
            """{"id":"typo","name":"t","kind":"threshold","threshhold":5}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        Assert.True((await typo.ProblemAsync())["errors"]!.AsObject().ContainsKey("threshhold"));

        Assert.Equal(HttpStatusCode.Conflict, (await _admin.DeleteAsync("/api/alerts/rules/critical-errors")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync("/api/alerts/rules/no-such-rule")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("/api/alerts/silences", new { matchers = new { }, comment = "" })).StatusCode);
    }

    [Fact]
    public async Task DefaultRulesAndSlos_AreSeeded_AndOneEvaluatorRuns()
    {
        var body = await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>("/api/alerts"),
            b => b!["evaluator"] is JsonObject, Patience, b => b!.ToJsonString());
        var ids = body!["alerts"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()).ToHashSet();
        foreach (var id in new[] { "critical-errors", "error-rate", "api-latency-p95", "database-unhealthy", "messaging-unhealthy",
                     "web-vital-lcp-poor", "datadog-forwarding-failing", "slo:api-availability:1h-5m", "slo:api-latency:3d-6h" })
        {
            Assert.Contains(id, ids);
        }

        var slos = (await _reader.GetFromJsonAsync<JsonArray>("/api/slos"))!;
        Assert.Contains(slos, s => s!["slo"]!["id"]!.GetValue<string>() == "api-availability" && s["slo"]!["objective"]!.GetValue<double>() == 99.9);

        var first = body["evaluator"]!["cycles"]!.GetValue<long>();
        var later = await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>("/api/alerts"),
            b => b!["evaluator"]!["cycles"]!.GetValue<long>() > first + 1, Patience, b => b!.ToJsonString());
        Assert.Equal(body["evaluator"]!["holder"]!.GetValue<string>(), later!["evaluator"]!["holder"]!.GetValue<string>());
    }

    private Task PublishAsync(HealthStatusChanged message) => Broker.PublishAsync(fixture, message);
}
