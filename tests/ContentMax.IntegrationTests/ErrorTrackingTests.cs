using System.Net;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// Sentry against the real AppHost: every service reports to the fixture's
// FakeSentryServer, and these tests read the envelopes the real SDK sent.
[Collection(AppHostCollection.Name)]
public class ErrorTrackingTests(AppHostFixture fixture)
{
    private const string CookieSecret = "cookie-secret-5e1f";
    private const string UrlSecret = "secret-in-url";
    private const string SentryTestPath = "/api/diagnostics/sentry-test";

    [Theory]
    [InlineData("ingestion")]
    [InlineData("aggregation")]
    [InlineData("health-probe")]
    public async Task ServerError_ReachesSentryWithServiceReleaseAndEnvironment_AndNoSecrets(string service)
    {
        var correlation = Guid.NewGuid().ToString("N");

        var response = await SendAsync(service, HttpMethod.Post, $"{SentryTestPath}?key={UrlSecret}", correlation, AppHostFixture.AdminKey);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var sentEvent = (await fixture.Sentry.WaitForItemAsync("event", i => i.Text.Contains(correlation))).Json;
        Assert.Equal(service, (string?)sentEvent["tags"]!["service"]);
        Assert.StartsWith("contentmax@0.1.0+", (string?)sentEvent["release"]);
        Assert.Equal(AppHostFixture.SentryEnvironment, (string?)sentEvent["environment"]);
        Assert.Equal($"POST {SentryTestPath}", (string?)sentEvent["transaction"]);
        var exception = sentEvent["exception"]!["values"]!.AsArray().Last()!;
        Assert.Equal("ContentMax.ServiceDefaults.ErrorTracking.SentryTestException", (string?)exception["type"]);

        var request = sentEvent["request"]!;
        Assert.Equal("[Filtered]", (string?)request["headers"]!["X-Api-Key"]);
        // With SendDefaultPii off the SDK leaves the cookie header out; if it ever sends it, it must be filtered.
        Assert.True(request["headers"]!["Cookie"] is null || (string?)request["headers"]!["Cookie"] == "[Filtered]");
        Assert.True(request["cookies"] is null || (string?)request["cookies"] == "[Filtered]");
        Assert.Equal("?key=[Filtered]", (string?)request["query_string"]);

        // The request's transaction is named after the route template.
        var transaction = (await fixture.Sentry.WaitForItemAsync("transaction", i => i.Text.Contains(correlation))).Json;
        Assert.Equal($"POST {SentryTestPath}", (string?)transaction["transaction"]);
        Assert.Equal("route", (string?)transaction["transaction_info"]!["source"]);

        // One issue per error (the exception handler's error log is not a second
        // one), and no per-request framework log lines as breadcrumbs.
        var events = fixture.Sentry.Items("event").Where(i => i.Text.Contains(correlation)).ToList();
        Assert.Single(events);
        Assert.DoesNotContain("Microsoft.AspNetCore.Hosting.Diagnostics", events[0].Text);

        AssertNoSecretEverReachedSentry();
    }

    [Fact]
    public async Task UnroutedRequest_TransactionIsNamedUnmatchedRoute_NotThePath()
    {
        var correlation = Guid.NewGuid().ToString("N");
        var rawId = "node-" + Guid.NewGuid().ToString("N")[..8];

        var response = await SendAsync("ingestion", HttpMethod.Get, $"/api/nodes/{rawId}", correlation, key: null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var transaction = (await fixture.Sentry.WaitForItemAsync("transaction", i => i.Text.Contains(correlation))).Json;
        Assert.Equal("GET unmatched route", (string?)transaction["transaction"]);
        Assert.Equal("custom", (string?)transaction["transaction_info"]!["source"]);
    }

    // Triggered for real: the endpoint throws ConnectionResetException (what a
    // client hanging up looks like), BeforeSend must drop it. The SDK sends in
    // order, so once a later error has arrived the ignored one would have too.
    [Fact]
    public async Task IgnorableException_IsNotReported()
    {
        var ignored = Guid.NewGuid().ToString("N");
        var reported = Guid.NewGuid().ToString("N");

        var ignoredResponse = await SendAsync("ingestion", HttpMethod.Post, $"{SentryTestPath}/ignored", ignored, AppHostFixture.AdminKey);
        await SendAsync("ingestion", HttpMethod.Post, SentryTestPath, reported, AppHostFixture.AdminKey);

        Assert.Equal(HttpStatusCode.InternalServerError, ignoredResponse.StatusCode);
        await fixture.Sentry.WaitForItemAsync("event", i => i.Text.Contains(reported));
        Assert.DoesNotContain(fixture.Sentry.Items("event"), i => i.Text.Contains(ignored));
        Assert.DoesNotContain(fixture.Sentry.Items("event"), i => i.Text.Contains("ConnectionResetException"));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(AppHostFixture.ReadKey, HttpStatusCode.Forbidden)]
    [InlineData(AppHostFixture.IngestKey, HttpStatusCode.Forbidden)]
    public async Task SentryTestEndpoint_NeedsTheAdminKey(string? key, HttpStatusCode expected)
    {
        var response = await SendAsync("ingestion", HttpMethod.Post, SentryTestPath, Guid.NewGuid().ToString("N"), key);
        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("ingestion")]
    [InlineData("aggregation")]
    [InlineData("health-probe")]
    [InlineData("dashboard")]
    public async Task MonitoringToolSettings_AreForwardedToEveryService(string service)
    {
        var resource = await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(service);
        var environment = resource.Snapshot.EnvironmentVariables.ToDictionary(v => v.Name, v => v.Value);

        Assert.Equal(fixture.Sentry.Dsn, environment["Sentry__Dsn"]);
        Assert.Equal(AppHostFixture.SentryEnvironment, environment["Sentry__Environment"]);
        Assert.Equal(AppHostFixture.PostHogKey, environment["PostHog__ProjectApiKey"]);
        Assert.Equal(fixture.PostHog.BaseUrl, environment["PostHog__Host"]);
    }

    private async Task<HttpResponseMessage> SendAsync(string service, HttpMethod method, string url, string correlation, string? key)
    {
        using var client = fixture.Client(service, key: null);
        using var request = new HttpRequestMessage(method, url);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        request.Headers.Add("Cookie", $"contentmax.session={CookieSecret}");
        request.Headers.Add("X-Correlation-Id", correlation);
        return await client.SendAsync(request);
    }

    // Across everything any service has sent so far, decompressed.
    private void AssertNoSecretEverReachedSentry()
    {
        Assert.Equal(0, fixture.Sentry.Rejected);
        foreach (var envelope in fixture.Sentry.Envelopes)
        {
            var text = envelope.Text;
            Assert.DoesNotContain(AppHostFixture.AdminKey, text);
            Assert.DoesNotContain(CookieSecret, text);
            Assert.DoesNotContain(UrlSecret, text);
        }
    }
}
