using System.Security.Cryptography;
using System.Text;
using ContentMax.Ingestion;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.UnitTests;

// How ingestion answers for the browser snippet: caching by content hash, the
// versioned URL, and the headers that let any site embed it.
public class BrowserSdkEndpointTests
{
    private static readonly BrowserSdkBundle Bundle = BrowserSdkBundle.From(Encoding.UTF8.GetBytes("/*! test bundle */(()=>{})();"));

    [Fact]
    public async Task PlainUrl_IsCachedFiveMinutes_WithAnETagAndCrossOriginHeaders()
    {
        var context = await GetScriptAsync(v: null);

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal("text/javascript; charset=utf-8", context.Response.ContentType);
        Assert.Equal("public, max-age=300", context.Response.Headers.CacheControl);
        Assert.Equal($"\"{Bundle.Version}\"", context.Response.Headers.ETag);
        Assert.Equal("*", context.Response.Headers.AccessControlAllowOrigin);
        Assert.Equal("cross-origin", context.Response.Headers["Cross-Origin-Resource-Policy"]);
        Assert.Equal("nosniff", context.Response.Headers.XContentTypeOptions);
        Assert.Equal(Bundle.Content, Body(context));
    }

    [Fact]
    public async Task MatchingIfNoneMatch_Is304_WithoutTheBody()
    {
        var context = await GetScriptAsync(v: null, ifNoneMatch: $"\"{Bundle.Version}\"");

        Assert.Equal(StatusCodes.Status304NotModified, context.Response.StatusCode);
        Assert.Empty(Body(context));
        Assert.Equal($"\"{Bundle.Version}\"", context.Response.Headers.ETag);
        Assert.Equal("public, max-age=300", context.Response.Headers.CacheControl);
    }

    [Fact]
    public async Task AnotherETag_GetsTheScript()
    {
        var context = await GetScriptAsync(v: null, ifNoneMatch: "\"0123456789abcdef\"");

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal(Bundle.Content, Body(context));
    }

    [Fact]
    public async Task CurrentVersion_IsImmutableForAYear()
    {
        var context = await GetScriptAsync(v: Bundle.Version);

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", context.Response.Headers.CacheControl);
        Assert.Equal(Bundle.Content, Body(context));
    }

    [Fact]
    public async Task AnotherVersion_RedirectsToTheCurrentOne_AndIsNotCachedLong()
    {
        var context = await GetScriptAsync(v: "0000000000000000", pathBase: "/monitoring");

        Assert.Equal(StatusCodes.Status302Found, context.Response.StatusCode);
        Assert.Equal($"/monitoring/sdk/contentmax.js?v={Bundle.Version}", context.Response.Headers.Location);
        Assert.Equal("public, max-age=300", context.Response.Headers.CacheControl);
        Assert.Empty(Body(context));
    }

    [Fact]
    public void Manifest_GivesTheVersionedUrlAndItsSha384Integrity()
    {
        var context = NewContext();
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("ingest.example", 8443);

        var manifest = BrowserSdkEndpoints.GetManifest(Bundle, context).Value!;

        Assert.Equal($"https://ingest.example:8443/sdk/contentmax.js?v={Bundle.Version}", manifest.Url);
        Assert.Equal(Bundle.Version, manifest.Version);
        Assert.Equal("sha384-" + Convert.ToBase64String(SHA384.HashData(Bundle.Content)), manifest.Integrity);
        Assert.Equal("*", context.Response.Headers.AccessControlAllowOrigin);
    }

    [Fact]
    public void Version_IsAHashOfTheContent()
    {
        var same = BrowserSdkBundle.From([.. Bundle.Content]);
        var changed = BrowserSdkBundle.From(Encoding.UTF8.GetBytes("/*! test bundle */(()=>{1})();"));

        Assert.Matches("^[0-9a-f]{16}$", Bundle.Version);
        Assert.Equal(Bundle.Version, same.Version);
        Assert.NotEqual(Bundle.Version, changed.Version);
        Assert.NotEqual(Bundle.Integrity, changed.Integrity);
    }

    [Fact]
    public void TheBuiltSnippet_IsEmbeddedInIngestion()
    {
        var bundle = BrowserSdkBundle.Load();
        var text = Encoding.UTF8.GetString(bundle.Content);

        Assert.StartsWith("/*! ContentMax browser SDK ", text);
        Assert.Contains("web-vitals", text);
        Assert.Contains("sendBeacon", text);
        // Small enough to embed anywhere: the brief's budget is tens of kilobytes, not hundreds.
        Assert.InRange(bundle.Content.Length, 1_000, 40_000);
    }

    private static async Task<HttpContext> GetScriptAsync(string? v, string? ifNoneMatch = null, string pathBase = "")
    {
        var context = NewContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.PathBase = pathBase;
        context.Request.Path = BrowserSdkEndpoints.ScriptPath;
        if (ifNoneMatch is not null)
        {
            context.Request.Headers.IfNoneMatch = ifNoneMatch;
        }

        var result = BrowserSdkEndpoints.GetScript(Bundle, context, v);
        await ((IResult)result.Result).ExecuteAsync(context);
        return context;
    }

    private static DefaultHttpContext NewContext() => new()
    {
        RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider(),
        Response = { Body = new MemoryStream() },
    };

    private static byte[] Body(HttpContext context) => ((MemoryStream)context.Response.Body).ToArray();
}
