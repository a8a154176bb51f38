using ContentMax.Ingestion;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Http;

namespace ContentMax.UnitTests;

// Which requests ingestion's fast lane serves itself, and which go down the
// full pipeline (authentication, CORS, authorization) to be answered there.
// The answers themselves are checked end to end by the integration tests
// (ApiKeyTests, RateLimitTests, CardinalityTests, MalformedInputCorpusTests,
// BrowserSnippetTests), which reach the lane whenever they send a header key.
public class IngestFastLaneTests
{
    private static readonly ApiKeyRing Keys = new(new StaticMonitor<ApiKeyOptions>(new ApiKeyOptions
    {
        Ingest = "ingest-1",
        Read = "read-1",
        Admin = "admin-1",
    }));

    [Theory]
    [InlineData("X-Api-Key", "ingest-1")]
    [InlineData("X-Api-Key", "  ingest-1 ")]
    [InlineData("Authorization", "Bearer ingest-1")]
    public void AServerRequestWithAnIngestKeyInAHeader_TakesTheLane(string header, string value)
    {
        var context = Post(request => request.Headers[header] = value);

        var identity = IngestFastLane.Takes(context, Keys);

        Assert.NotNull(identity);
        Assert.Equal("ingest", identity.Name);
        Assert.Contains(ApiRoles.Ingest, identity.Roles);
    }

    [Fact]
    public void NoKey_GoesDownTheFullPipeline() =>
        Assert.Null(IngestFastLane.Takes(Post(), Keys));

    [Theory]
    [InlineData("wrong-key")]
    [InlineData("read-1")]
    [InlineData("admin-1")]
    public void AnUnknownKey_OrOneWithoutTheIngestRole_GoesDownTheFullPipeline(string key) =>
        Assert.Null(IngestFastLane.Takes(Post(request => request.Headers["X-Api-Key"] = key), Keys));

    [Fact]
    public void AKeyInTheQueryString_GoesDownTheFullPipeline() =>
        Assert.Null(IngestFastLane.Takes(Post(request => request.QueryString = new QueryString("?key=ingest-1")), Keys));

    [Fact]
    public void ABrowserRequest_GoesDownTheFullPipeline_ForCors() =>
        Assert.Null(IngestFastLane.Takes(Post(request =>
        {
            request.Headers["X-Api-Key"] = "ingest-1";
            request.Headers.Origin = "https://app.example";
        }), Keys));

    [Fact]
    public void AnotherEndpoint_GoesDownTheFullPipeline() =>
        Assert.Null(IngestFastLane.Takes(Post(request => request.Headers["X-Api-Key"] = "ingest-1", served: false), Keys));

    [Fact]
    public void ARequestsPrincipal_IsTheKeysOwn_BuiltOnce()
    {
        var first = IngestFastLane.Takes(Post(request => request.Headers["X-Api-Key"] = "ingest-1"), Keys)!;
        var second = IngestFastLane.Takes(Post(request => request.Headers["X-Api-Key"] = "ingest-1"), Keys)!;

        Assert.Same(first.Principal, second.Principal);
        Assert.True(first.Principal.IsInRole(ApiRoles.Ingest));
        Assert.Equal("ingest", first.Principal.FindFirst(ApiKeyClaims.KeyName)?.Value);
        Assert.Equal(ApiKeyAuthenticationHandler.SchemeName, first.Principal.Identity?.AuthenticationType);
        Assert.DoesNotContain(first.Principal.Claims, c => c.Value.Contains("ingest-1", StringComparison.Ordinal));
    }

    private static DefaultHttpContext Post(Action<HttpRequest>? configure = null, bool served = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/api/metrics";
        context.Request.ContentType = "application/json";
        var metadata = served ? new EndpointMetadataCollection(IngestFastLane.Served.Instance) : EndpointMetadataCollection.Empty;
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, metadata, "IngestMetrics"));
        configure?.Invoke(context.Request);
        return context;
    }
}
