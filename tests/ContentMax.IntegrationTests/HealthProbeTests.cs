using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// The health-probe against the real servers: stopping, freezing and restarting
// them, and reading /api/health while it happens.
[Collection(AppHostCollection.Name)]
public class HealthProbeTests(AppHostFixture fixture)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    private HttpClient Anonymous() => fixture.Client("health-probe", key: null);

    private async Task<(HttpStatusCode Status, JsonObject Body)> HealthAsync(HttpClient? client = null, string query = "")
    {
        using var response = await (client ?? Anonymous()).GetAsync("/api/health" + query);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private async Task<JsonObject> WaitForAsync(Func<HttpStatusCode, JsonObject, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Settle;
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
        var body = await WaitForBaselineAsync();
        using var response = await Anonymous().GetAsync("/api/health");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(["must-revalidate", "no-cache", "no-store"], response.Headers.GetValues("Cache-Control").SelectMany(v => v.Split(',')).Select(v => v.Trim()).Order());
        Assert.Equal(["api", "cache", "database", "external", "messaging", "services"], body["checks"]!.AsObject().Select(kv => kv.Key).Order());
        Assert.Equal("healthy", Check(body, "api"));
        // No internet here: the external APIs honestly fail, which only degrades.
        Assert.Equal("degraded", body["status"]!.GetValue<string>());
        Assert.NotEqual("healthy", Check(body, "external"));
        Assert.True(body["uptime"]!.GetValue<double>() > 0);
        Assert.False(string.IsNullOrEmpty(body["version"]!.GetValue<string>()));
        Assert.NotNull(body["timestamp"]);
        Assert.Null(body["details"]);
        foreach (var leak in new[] { "127.0.0.1", "Password", "password", "localhost", " at ", "Exception", "googleapis" })
        {
            Assert.DoesNotContain(leak, text);
        }
    }

    [Fact]
    public async Task Details_NeedTheReadKey()
    {
        await WaitForBaselineAsync();
        using var noKey = await Anonymous().GetAsync("/api/health?details=true");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using var wrongRole = await fixture.Client("health-probe", AppHostFixture.IngestKey).GetAsync("/api/health?details=true");
        Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);

        var (_, body) = await HealthAsync(fixture.Client("health-probe", AppHostFixture.ReadKey), "?details=true");
        var database = body["details"]!["database"]!;
        Assert.Equal("healthy", database["status"]!.GetValue<string>());
        Assert.True(database["latencyMs"]!.GetValue<double>() >= 0);
        Assert.NotNull(database["lastSuccess"]);
        Assert.DoesNotContain("Password", body.ToJsonString());
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
            Assert.Contains(body["errors"]!.AsArray(), e => e!.GetValue<string>().StartsWith("cache:", StringComparison.Ordinal));
        }
        finally
        {
            await RestartAsync("cache");
        }

        await WaitForAsync((_, b) => Check(b, "cache") == "healthy", "cache back");

        using var reader = fixture.Client("health-probe", AppHostFixture.ReadKey);
        var history = JsonNode.Parse(await reader.GetStringAsync("/api/health/history?period=1h"))!;
        var cache = history["transitions"]!.AsArray().Where(t => t!["check"]!.GetValue<string>() == "cache").ToList();
        Assert.Contains(cache, t => t!["status"]!.GetValue<string>() == "degraded");
        Assert.Contains(cache, t => t!["previousStatus"]!.GetValue<string>() == "degraded" && t["status"]!.GetValue<string>() == "healthy");
        Assert.True(history["uptime"]!["cache"]!.GetValue<double>() < 100);
    }

    [Fact]
    public async Task PostgresStopped_IsUnhealthyWith503_ThenRecovers()
    {
        await WaitForBaselineAsync();
        await fixture.App.ResourceCommands.ExecuteCommandAsync("postgres", KnownResourceCommands.StopCommand);
        try
        {
            await WaitForAsync((s, b) => s == HttpStatusCode.ServiceUnavailable && b["status"]!.GetValue<string>() == "unhealthy"
                && Check(b, "database") == "unhealthy", "unhealthy with 503");
        }
        finally
        {
            await RestartAsync("postgres");
        }

        await WaitForAsync((s, b) => s == HttpStatusCode.OK && Check(b, "database") == "healthy", "database back");
    }

    [Fact]
    public async Task WhilePostgresHangs_ApiHealthStaysFast_AndTurnsUnhealthy()
    {
        await WaitForBaselineAsync();
        Signal("postgres", "STOP");
        try
        {
            var client = Anonymous();
            var latencies = new List<double>();
            var turned = false;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (DateTime.UtcNow < deadline && (latencies.Count < 200 || !turned))
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync("/api/health");
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable) turned = true;
            }

            Assert.True(turned, "a hung database never made the status unhealthy");
            latencies.Sort();
            var p99 = latencies[(int)Math.Ceiling(0.99 * latencies.Count) - 1];
            Assert.True(p99 < 50, $"p99 {p99:0.0} ms over {latencies.Count} requests while the database hung");
        }
        finally
        {
            Signal("postgres", "CONT");
        }

        await WaitForAsync((s, b) => s == HttpStatusCode.OK && Check(b, "database") == "healthy", "database back");
    }

    // Starts a stopped server again once it has fully exited (a start while it
    // is still shutting down fails), and waits until it is healthy.
    private async Task RestartAsync(string resource)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await fixture.App.ResourceNotifications.WaitForResourceAsync(resource, [KnownResourceStates.Exited, KnownResourceStates.Finished], timeout.Token);
        await fixture.App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
    }

    private void Signal(string resource, string signal)
    {
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState(resource, out var state));
        var pid = int.Parse(state.Snapshot.Properties.First(p => p.Name == "executable.pid").Value!.ToString()!);
        foreach (var p in Descendants(pid).Prepend(pid))
        {
            using var kill = Process.Start("kill", [$"-{signal}", p.ToString()]);
            kill.WaitForExit();
        }
    }

    private static IEnumerable<int> Descendants(int pid)
    {
        var children = new List<int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                children.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }
            catch (IOException)
            {
            }
        }

        return children.Concat(children.SelectMany(Descendants));
    }
}
