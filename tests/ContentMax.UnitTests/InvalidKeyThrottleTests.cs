using System.Net;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.UnitTests;

// Guessing keys is slow: past RateLimits:InvalidKeysPerMinute invalid keys from
// one address, its invalid keys get 429 with Retry-After; valid keys still work.
public class InvalidKeyThrottleTests
{
    [Fact]
    public async Task InvalidKeysBeyondTheLimit_Get429_ValidKeysStillPass()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development", ApplicationName = "ContentMax.UnitTests" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sentry:Dsn"] = "",
            ["PostHog:ProjectApiKey"] = "",
            ["ApiKeys:Read"] = "read-key",
            ["RateLimits:InvalidKeysPerMinute"] = "3",
        });
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults();
        builder.AddApiKeyAuthentication(ApiRoles.Read);
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/data", () => "ok").RequireAuthorization(ApiRoles.Read);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        async Task<HttpResponseMessage> GetAsync(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/data");
            request.Headers.Add("X-Api-Key", key);
            return await client.SendAsync(request);
        }

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++) answers.Add((await GetAsync($"guess-{i}")).StatusCode);
        using var throttled = await GetAsync("guess-5");
        using var valid = await GetAsync("read-key");

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], answers);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), throttled.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", throttled.Content.Headers.ContentType?.MediaType);
        Assert.Contains("invalid API keys from this address", await throttled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }
}
