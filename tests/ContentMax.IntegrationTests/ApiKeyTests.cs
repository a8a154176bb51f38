using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.IntegrationTests;

[Collection(AppHostCollection.Name)]
public class ApiKeyTests(AppHostFixture fixture)
{
    private static StringContent OneMetric() => new("""{"metric":"auth_probe","value":1}""", Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("ingestion")]
    [InlineData("aggregation")]
    public async Task NoKey_Is401Problem(string service)
    {
        using var client = fixture.Client(service, key: null);
        var response = service == "ingestion" ? await client.PostAsync("/api/metrics", OneMetric()) : await client.GetAsync("/api/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await response.ProblemAsync();
    }

    // Each service is handed what it needs to check keys: their SHA-256 hashes,
    // never the keys. Only the dashboard holds a key itself (the read key, which
    // it sends to the APIs). No service holds the admin key, nor the ingest key
    // (which only self-monitoring, off here, would hand them).
    // Datadog's key and the webhook receivers' URLs and headers travel as
    // secret parameters.
    [Theory]
    [InlineData("ingestion")]
    [InlineData("aggregation")]
    [InlineData("health-probe")]
    [InlineData("dashboard")]
    public async Task EachService_GetsHashesNotKeys_AndNoAdminKey(string service)
    {
        string[] roles = ["admin", "ingest", "read"];
        var model = fixture.App.Services.GetRequiredService<DistributedApplicationModel>();
        var resource = model.Resources.OfType<ProjectResource>().Single(r => r.Name == service);
#pragma warning disable CS0618 // The resolved environment, as the service is started with it; the replacement builder needs more set-up for the same answer.
        var environment = await resource.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618

        Assert.DoesNotContain(environment, e => e.Value == AppHostFixture.AdminKey);
        // The dashboard's pages send their web vitals with an ingest key: that one is public by design.
        Assert.DoesNotContain(environment, e => e.Value == AppHostFixture.IngestKey && e.Key != "Dashboard__BrowserMetrics__Key");
        Assert.Equal(service == "dashboard", environment.Any(e => e.Value == AppHostFixture.ReadKey));
        Assert.DoesNotContain(environment.Keys, k => k is "ApiKeys__Ingest" or "ApiKeys__Admin");
        foreach (var role in roles)
        {
            Assert.Equal(role, environment[$"ApiKeys__Keys__{role}__Role"]);
            var key = role switch { "ingest" => AppHostFixture.IngestKey, "read" => AppHostFixture.ReadKey, _ => AppHostFixture.AdminKey };
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key))), environment[$"ApiKeys__Keys__{role}__Hash"]);
        }
    }

    [Fact]
    public void DatadogKey_AndReceiverUrlsAndHeaders_AreSecretParameters()
    {
        var model = fixture.App.Services.GetRequiredService<DistributedApplicationModel>();
        var parameters = model.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);

        Assert.True(parameters["datadog-apikey"].Secret);
        Assert.True(parameters["alerting-receivers-1-url"].Secret);
        Assert.True(parameters["alerting-receivers-2-headers-authorization"].Secret);
        Assert.DoesNotContain(parameters.Values, p => p.Name.StartsWith("alerting-receivers-", StringComparison.Ordinal) && p.Name.EndsWith("-name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownKey_Is401()
    {
        using var client = fixture.Client("aggregation", "not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/metrics")).StatusCode);
    }

    [Fact]
    public async Task ReadKeyOnIngestion_Is403AndIngestKeyOnQueries_Is403()
    {
        using var reader = fixture.Client("ingestion", AppHostFixture.ReadKey);
        var ingest = await reader.PostAsync("/api/metrics", OneMetric());
        Assert.Equal(HttpStatusCode.Forbidden, ingest.StatusCode);
        await ingest.ProblemAsync();

        using var writer = fixture.Client("aggregation", AppHostFixture.IngestKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.GetAsync("/api/metrics")).StatusCode);
    }

    [Fact]
    public async Task BearerToken_IsAccepted()
    {
        using var client = fixture.Client("aggregation", key: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppHostFixture.ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/metrics?period=1h")).StatusCode);
    }

    [Fact]
    public async Task AdminKey_CanRead()
    {
        using var client = fixture.Client("aggregation", AppHostFixture.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/metrics?period=1h")).StatusCode);
    }

    [Fact]
    public async Task ReadKeyInQueryString_IsRefused()
    {
        using var client = fixture.Client("aggregation", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/metrics?key={AppHostFixture.ReadKey}")).StatusCode);
    }

    [Theory]
    [InlineData("ingestion")]
    [InlineData("aggregation")]
    public async Task HealthAndOpenApi_NeedNoKey(string service)
    {
        using var client = fixture.Client(service, key: null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/metrics", openApi);
    }
}

// Named keys, the reloadable keys file, and keeping presented keys out of
// everything a service writes.
[Collection(AppHostCollection.Name)]
public class NamedApiKeyTests(AppHostFixture fixture)
{
    private static StringContent Metric(string name) => new($$"""{"metric":"{{name}}","value":1}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task ANamedKeyConfiguredByItsHash_WorksForItsRoleOnly()
    {
        using var partner = fixture.Client("ingestion", AppHostFixture.PartnerKey);
        Assert.Equal(HttpStatusCode.Accepted, (await partner.PostAsync("/api/metrics", Metric(MetricsApi.UniqueName()))).StatusCode);

        using var reader = fixture.Client("aggregation", AppHostFixture.PartnerKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/api/metrics?period=1h")).StatusCode);
    }

    [Fact]
    public async Task KeysFile_AddsAndRevokesKeys_WithoutARestart()
    {
        var rotated = "test-rotated-key-" + Guid.NewGuid().ToString("N")[..8];
        using var oldReader = fixture.Client("aggregation", AppHostFixture.FileKey);
        using var newReader = fixture.Client("aggregation", rotated);
        using var newWriter = fixture.Client("ingestion", rotated);
        Assert.Equal(HttpStatusCode.OK, (await oldReader.GetAsync("/api/metrics?period=1h")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await newReader.GetAsync("/api/metrics?period=1h")).StatusCode);

        await fixture.WriteKeysFileAsync(("file-reader-2", ApiRoles.Read, rotated));
        try
        {
            await Eventually.UntilAsync(async () => (
                    Old: (await oldReader.GetAsync("/api/metrics?period=1h")).StatusCode,
                    New: (await newReader.GetAsync("/api/metrics?period=1h")).StatusCode,
                    Ingest: (await newWriter.PostAsync("/api/metrics", Metric(MetricsApi.UniqueName()))).StatusCode),
                s => s == (HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.Forbidden),
                TimeSpan.FromSeconds(15),
                s => $"after rewriting the keys file: old key {s.Old}, new key {s.New} (and {s.Ingest} on ingestion)",
                TimeSpan.FromMilliseconds(250));
        }
        finally
        {
            await fixture.WriteKeysFileAsync(("file-reader", ApiRoles.Read, AppHostFixture.FileKey));
        }

        await Eventually.UntilAsync(async () => (await oldReader.GetAsync("/api/metrics?period=1h")).StatusCode,
            s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(15), s => $"the restored key still answers {s}");
    }

    [Fact]
    public async Task AnInvalidKey_NeverAppearsInResponses_Logs_OrSentry()
    {
        var presented = "sk-invalid-" + Guid.NewGuid().ToString("N");
        var probe = MetricsApi.UniqueName("keyprobe");
        await using var ingestionLogs = ResourceLogs.Capture(fixture.App, "ingestion");
        await using var aggregationLogs = ResourceLogs.Capture(fixture.App, "aggregation");
        var bodies = new List<string>();

        using (var header = fixture.Client("ingestion", presented))
        {
            var response = await header.PostAsync($"/api/metrics?probe={probe}", Metric(probe));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            bodies.Add(await response.Content.ReadAsStringAsync() + response.Headers);
        }

        using (var anonymous = fixture.Client("ingestion", key: null))
        {
            var response = await anonymous.PostAsync($"/api/metrics?key={presented}&probe={probe}", Metric(probe));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            bodies.Add(await response.Content.ReadAsStringAsync() + response.Headers);
        }

        using (var bearer = fixture.Client("aggregation", key: null))
        {
            bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", presented);
            var response = await bearer.GetAsync($"/api/metrics?period=1h&probe={probe}");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var problem = await response.ProblemAsync();
            Assert.Equal("The API key is not valid.", problem["detail"]!.GetValue<string>());
            bodies.Add(problem.ToJsonString() + response.Headers);
        }

        // Each request is a Sentry transaction (sample rate 1.0 in tests); wait for them.
        await fixture.Sentry.WaitForItemAsync("transaction", i => i.Text.Contains(probe));
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.All(bodies, body => Assert.DoesNotContain(presented, body));
        Assert.DoesNotContain(ingestionLogs.Lines.Concat(aggregationLogs.Lines), line => line.Contains(presented, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Sentry.Envelopes, envelope => envelope.Text.Contains(presented, StringComparison.Ordinal));
    }
}
