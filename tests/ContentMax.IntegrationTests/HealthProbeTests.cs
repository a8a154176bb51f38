using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ContentMax.Contracts;
using MassTransit;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests;

// The health-probe against the real servers: stopping, freezing and restarting
// them, and reading /api/health while it happens. Every test puts back what it
// stopped and waits until the system is healthy again, so the rest of the
// collection is unaffected.
[Collection(AppHostCollection.Name)]
public class HealthProbeTests(AppHostFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    // Secrets and internals that must never reach a caller of /api/health.
    private static readonly string[] Leaks = ["127.0.0.1", "localhost", "Password", "password", "Host=", "amqp://", "redis://", " at ", "Exception"];

    private HttpClient Anonymous() => fixture.Client("health-probe", key: null);

    private HttpClient Reader() => fixture.Client("health-probe", AppHostFixture.ReadKey);

    private async Task<(HttpStatusCode Status, JsonObject Body)> HealthAsync(HttpClient? client = null, string query = "")
    {
        using var response = await (client ?? Anonymous()).GetAsync("/api/health" + query);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private async Task<JsonObject> WaitForAsync(Func<HttpStatusCode, JsonObject, bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Settle);
        (HttpStatusCode Status, JsonObject Body) last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await HealthAsync();
            if (condition(last.Status, last.Body)) return last.Body;
            await Task.Delay(250);
        }

        throw new TimeoutException($"Health never became {what}: {(int)last.Status} {last.Body?.ToJsonString()}");
    }

    private static string Check(JsonObject body, string name) => body["checks"]![name]!.GetValue<string>();

    private Task<JsonObject> WaitForBaselineAsync() =>
        WaitForAsync((s, b) => s == HttpStatusCode.OK && Check(b, "database") == "healthy" && Check(b, "cache") == "healthy"
            && Check(b, "messaging") == "healthy" && Check(b, "services") == "healthy", "healthy apart from external APIs");

    [Fact]
    public async Task AllUp_ReportsTheSeedsContract_WithoutLeakingInternals()
    {
        await WaitForBaselineAsync();
        using var response = await Anonymous().GetAsync("/api/health");
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonNode.Parse(text)!.AsObject();
        output.WriteLine(text);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["must-revalidate", "no-cache", "no-store"], response.Headers.GetValues("Cache-Control").SelectMany(v => v.Split(',')).Select(v => v.Trim()).Order());
        Assert.Equal(["api", "cache", "database", "external", "messaging", "services"], body["checks"]!.AsObject().Select(kv => kv.Key).Order());
        Assert.Equal("healthy", Check(body, "api"));
        Assert.True(body["uptime"]!.GetValue<double>() > 0);
        Assert.False(string.IsNullOrEmpty(body["version"]!.GetValue<string>()));
        Assert.True(DateTimeOffset.TryParse(body["timestamp"]!.GetValue<string>(), out var timestamp));
        Assert.InRange(timestamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        if (Check(body, "external") == "healthy")
        {
            Assert.Equal(["checks", "status", "timestamp", "uptime", "version"], body.Select(kv => kv.Key).Order());
            Assert.Equal("healthy", body["status"]!.GetValue<string>());
        }
        else
        {
            // No internet here: the external APIs honestly fail, which only degrades,
            // and they are the only errors.
            Assert.Equal(["checks", "errors", "status", "timestamp", "uptime", "version"], body.Select(kv => kv.Key).Order());
            Assert.Equal("degraded", body["status"]!.GetValue<string>());
            Assert.All(body["errors"]!.AsArray(), e => Assert.StartsWith("external:", e!.GetValue<string>()));
            Assert.All(body["errors"]!.AsArray(), e => Assert.True(e!.GetValue<string>().Length < 100, e.GetValue<string>()));
        }

        foreach (var leak in Leaks.Append("googleapis.com").Append("shopify.com"))
        {
            Assert.DoesNotContain(leak, text);
        }
    }

    [Fact]
    public async Task Details_NeedTheReadKey_AndLeakNoConnectionStrings()
    {
        await WaitForBaselineAsync();
        using var noKey = await Anonymous().GetAsync("/api/health?details=true");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        await noKey.ProblemAsync();
        using var wrongRole = await fixture.Client("health-probe", AppHostFixture.IngestKey).GetAsync("/api/health?details=true");
        Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);
        await wrongRole.ProblemAsync();

        // The bearer form of the key works as well as X-Api-Key.
        using var bearer = fixture.Client("health-probe", key: null);
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppHostFixture.ReadKey);
        using var response = await bearer.GetAsync("/api/health?details=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine(text);
        var details = JsonNode.Parse(text)!["details"]!.AsObject();

        Assert.Equal(["cache", "database", "external:google-apis", "external:shopify", "messaging", "service:aggregation", "service:dashboard", "service:ingestion"],
            details.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        var database = details["database"]!;
        Assert.Equal("healthy", database["status"]!.GetValue<string>());
        Assert.Equal("database", database["group"]!.GetValue<string>());
        Assert.True(database["latencyMs"]!.GetValue<double>() >= 0);
        Assert.NotNull(database["lastChecked"]);
        Assert.NotNull(database["lastSuccess"]);
        Assert.Equal(0, database["consecutiveFailures"]!.GetValue<int>());
        Assert.Null(database["error"]);
        foreach (var leak in Leaks)
        {
            Assert.DoesNotContain(leak, text);
        }
    }

    [Fact]
    public async Task CacheStopped_IsDegradedWith200_AndRecordedInHistory_ThenRecovers()
    {
        await WaitForBaselineAsync();
        await fixture.App.ResourceCommands.ExecuteCommandAsync("cache", KnownResourceCommands.StopCommand);
        try
        {
            var body = await WaitForAsync((s, b) => Check(b, "cache") != "healthy", "cache down");
            var (status, _) = await HealthAsync();
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("degraded", body["status"]!.GetValue<string>());
            Assert.Equal("degraded", Check(body, "cache"));
            Assert.Equal("healthy", Check(body, "database"));
            Assert.Contains(body["errors"]!.AsArray(), e => e!.GetValue<string>().StartsWith("cache: ", StringComparison.Ordinal));
        }
        finally
        {
            await RestartAsync("cache");
        }

        await WaitForAsync((_, b) => Check(b, "cache") == "healthy", "cache back");

        // Transitions are written right after they happen; poll rather than race the writer.
        var history = await WaitForHistoryAsync(h => CacheTransitions(h).Any(t => t["previousStatus"]!.GetValue<string>() != "unknown"
            && t["status"]!.GetValue<string>() == "healthy"));
        var cache = CacheTransitions(history);
        Assert.Contains(cache, t => t["status"]!.GetValue<string>() is "degraded" or "unhealthy");
        Assert.Contains(cache, t => t["previousStatus"]!.GetValue<string>() is "degraded" or "unhealthy" && t["status"]!.GetValue<string>() == "healthy");
        var down = cache.Last(t => t["status"]!.GetValue<string>() == "degraded");
        Assert.Equal("cache", down["group"]!.GetValue<string>());
        Assert.StartsWith("cache: ", down["error"]!.GetValue<string>());
        Assert.InRange(history["uptime"]!["cache"]!.GetValue<double>(), 0, 99.999);
        Assert.Equal("1h", history["period"]!.GetValue<string>());
        Assert.NotNull(history["from"]);
        Assert.NotNull(history["to"]);

        static List<JsonNode> CacheTransitions(JsonNode history) =>
            history["transitions"]!.AsArray().Where(t => t!["check"]!.GetValue<string>() == "cache").Select(t => t!).ToList();
    }

    [Fact]
    public async Task StatusChanges_ArePublishedAsHealthStatusChanged()
    {
        await WaitForBaselineAsync();
        var received = Channel.CreateUnbounded<HealthStatusChanged>();
        var broker = new Uri(await fixture.ConnectionStringAsync("messaging"));
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker);
            cfg.ReceiveEndpoint("health-probe-tests-" + Guid.NewGuid().ToString("N")[..8], e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<HealthStatusChanged>(context => received.Writer.WriteAsync(context.Message).AsTask());
            });
        });
        await bus.StartAsync();
        try
        {
            await fixture.App.ResourceCommands.ExecuteCommandAsync("cache", KnownResourceCommands.StopCommand);
            try
            {
                var down = await NextCacheChangeAsync();
                Assert.Equal(("healthy", "degraded", "cache"), (down.PreviousStatus, down.Status, down.Group));
                Assert.StartsWith("cache: ", down.Error);
                Assert.True(down.ConsecutiveFailures >= 1);
            }
            finally
            {
                await RestartAsync("cache");
            }

            var up = await NextCacheChangeAsync();
            Assert.Equal(("degraded", "healthy"), (up.PreviousStatus, up.Status));
            Assert.Null(up.Error);
        }
        finally
        {
            await bus.StopAsync();
        }

        await WaitForBaselineAsync();

        async Task<HealthStatusChanged> NextCacheChangeAsync()
        {
            using var timeout = new CancellationTokenSource(Settle);
            while (true)
            {
                var change = await received.Reader.ReadAsync(timeout.Token);
                if (change.Check == "cache") return change;
            }
        }
    }

    [Fact]
    public async Task PostgresStopped_IsUnhealthyWith503_ThenRecovers()
    {
        await WaitForBaselineAsync();
        await fixture.App.ResourceCommands.ExecuteCommandAsync("postgres", KnownResourceCommands.StopCommand);
        try
        {
            var body = await WaitForAsync((s, b) => s == HttpStatusCode.ServiceUnavailable && b["status"]!.GetValue<string>() == "unhealthy"
                && Check(b, "database") == "unhealthy", "unhealthy with 503");
            Assert.Contains(body["errors"]!.AsArray(), e => e!.GetValue<string>().StartsWith("database: ", StringComparison.Ordinal));
            Assert.DoesNotContain("127.0.0.1", body.ToJsonString());
            await AssertTheProbeItselfIsHealthyAsync();

            // The history lives in that database: it says so instead of failing obscurely.
            using var history = await Reader().GetAsync("/api/health/history?period=1h");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, history.StatusCode);
            await history.ProblemAsync();
        }
        finally
        {
            await RestartAsync("postgres");
        }

        await WaitForAsync((s, b) => s == HttpStatusCode.OK && Check(b, "database") == "healthy", "database back");

        // The transitions that happened while the database was down were kept and written once it was back.
        var after = await WaitForHistoryAsync(h => h["transitions"]!.AsArray().Any(t => t!["check"]!.GetValue<string>() == "database"
            && t["status"]!.GetValue<string>() == "unhealthy"));
        Assert.Contains(after["transitions"]!.AsArray(), t => t!["check"]!.GetValue<string>() == "database"
            && t["previousStatus"]!.GetValue<string>() == "unhealthy" && t["status"]!.GetValue<string>() == "healthy");
    }

    [Fact]
    public async Task MessagingStopped_IsUnhealthyWith503_WithinTwoIntervals_ThenRecovers()
    {
        await WaitForBaselineAsync();
        await fixture.App.ResourceCommands.ExecuteCommandAsync("messaging", KnownResourceCommands.StopCommand);
        try
        {
            using (var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await fixture.App.ResourceNotifications.WaitForResourceAsync("messaging", [KnownResourceStates.Exited, KnownResourceStates.Finished], exited.Token);
            }

            // Interval 1 s, timeout 2 s: the held AMQP connection drops with the broker.
            await WaitForAsync((s, b) => s == HttpStatusCode.ServiceUnavailable && Check(b, "messaging") == "unhealthy", "unhealthy with 503",
                within: TimeSpan.FromSeconds(5));
            await AssertTheProbeItselfIsHealthyAsync();
        }
        finally
        {
            await RestartAsync("messaging", TimeSpan.FromMinutes(2));
        }

        await WaitForBaselineAsync();
    }

    [Fact]
    public async Task WhilePostgresHangs_ApiHealthStaysFast_AndTurnsUnhealthy()
    {
        await WaitForBaselineAsync();
        var frozen = Faults.ResourceInstances.ProcessTree(PostgresPid());
        var stopwatch = Stopwatch.StartNew();
        Signal(frozen, "STOP");
        try
        {
            var client = Anonymous();
            var latencies = new List<double>();
            TimeSpan? turned = null;
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(20) && (latencies.Count < 200 || turned is null))
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync("/api/health");
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (turned is null && response.StatusCode == HttpStatusCode.ServiceUnavailable) turned = stopwatch.Elapsed;
                // Back to back, every /api/health request is a Sentry transaction (sample rate 1.0 in
                // tests) and a burst overflows the SDK's queue, which then down-samples the service's
                // transactions for the next tests. A 2 ms pause keeps it draining; latency is per request.
                await Task.Delay(latencies.Count < 200 ? 2 : 100);
            }

            Assert.True(turned is not null, "a hung database never made the status unhealthy");
            Assert.True(turned < TimeSpan.FromSeconds(8), $"unhealthy only after {turned}");
            Assert.True(latencies.Count >= 200, $"only {latencies.Count} requests in 20 s");
            latencies.Sort();
            var p99 = latencies[(int)Math.Ceiling(0.99 * latencies.Count) - 1];
            output.WriteLine($"While the database hung: unhealthy after {turned?.TotalSeconds:0.0} s; /api/health p50 {latencies[latencies.Count / 2]:0.00} ms, "
                + $"p99 {p99:0.00} ms, max {latencies[^1]:0.00} ms over {latencies.Count} requests.");
            Assert.True(p99 < 50, $"p99 {p99:0.0} ms over {latencies.Count} requests while the database hung");

            var (_, body) = await HealthAsync();
            Assert.Contains(body["errors"]!.AsArray(), e => e!.GetValue<string>() == "database: timed out after 2s");
        }
        finally
        {
            // Everything that was frozen, and anything that appeared since.
            Signal(frozen.Union(Faults.ResourceInstances.ProcessTree(PostgresPid())).ToList(), "CONT");
        }

        await WaitForAsync((s, b) => s == HttpStatusCode.OK && Check(b, "database") == "healthy", "database back");
        using var healthy = new CancellationTokenSource(Settle);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("postgres", healthy.Token);
    }

    [Fact]
    public async Task History_NeedsTheReadKey_AndAValidPeriod()
    {
        using var noKey = await Anonymous().GetAsync("/api/health/history?period=1h");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using var wrongRole = await fixture.Client("health-probe", AppHostFixture.IngestKey).GetAsync("/api/health/history");
        Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);

        foreach (var period in new[] { "1x", "h", "0h", "-1h", "1.5h", "24" })
        {
            using var response = await Reader().GetAsync($"/api/health/history?period={Uri.EscapeDataString(period)}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.ProblemAsync();
            Assert.NotNull(problem["errors"]!["period"]);
        }

        // The first observation of every check (unknown → its status) is a stored transition.
        var history = await WaitForHistoryAsync(h => h["transitions"]!.AsArray().Any(t => t!["check"]!.GetValue<string>() == "database"), "24h");
        Assert.Equal("24h", history["period"]!.GetValue<string>());
        Assert.Contains(history["transitions"]!.AsArray(), t => t!["check"]!.GetValue<string>() == "database"
            && t["previousStatus"]!.GetValue<string>() == "unknown");
        Assert.InRange(history["uptime"]!["messaging"]!.GetValue<double>(), 0, 100);
    }

    // The probe's own readiness (/health, what Aspire watches) must not follow
    // what it probes, or Aspire would call the probe unhealthy during an outage.
    private async Task AssertTheProbeItselfIsHealthyAsync()
    {
        using var response = await Anonymous().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState("health-probe", out var probe));
        Assert.NotEqual(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, probe.Snapshot.HealthStatus);
    }

    private async Task<JsonNode> WaitForHistoryAsync(Func<JsonNode, bool> condition, string period = "1h")
    {
        var deadline = DateTime.UtcNow + Settle;
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Reader().GetAsync($"/api/health/history?period={period}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                last = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                if (condition(last)) return last;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The history never showed what was expected: {last?.ToJsonString()}");
    }

    // Starts a stopped server again once it has fully exited (a start while it
    // is still shutting down fails), and waits until it is healthy.
    private async Task RestartAsync(string resource, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromMinutes(1));
        await fixture.App.ResourceNotifications.WaitForResourceAsync(resource, [KnownResourceStates.Exited, KnownResourceStates.Finished], timeout.Token);
        await fixture.App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
    }

    // The local postgres resource runs a bash wrapper; the servers are its descendants.
    private int PostgresPid()
    {
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState("postgres", out var state));
        return int.Parse(state.Snapshot.Properties.First(p => p.Name == "executable.pid").Value!.ToString()!);
    }

    private static void Signal(IEnumerable<int> pids, string signal)
    {
        foreach (var pid in pids)
        {
            using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]);
            kill.WaitForExit();
        }
    }
}
