using System.Net;
using System.Net.Http.Headers;
using System.Text;

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
