using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace ContentMax.Ingestion;

// Serves the browser snippet (clients/browser, bundled and embedded by
// BrowserSdk.targets) that web pages include with one tag:
//   <script src="https://INGESTION/sdk/contentmax.js" data-key="INGEST_KEY" async></script>
//
// Caching: the plain URL may change with any deploy, so browsers keep it five
// minutes and revalidate it with its ETag (a hash of the content). The
// versioned URL, /sdk/contentmax.js?v=<version>, names those exact bytes and is
// cached for a year. Only the current version is kept: a request for another
// one is redirected (302) to the current versioned URL, so a page pinned to an
// old version keeps working after an upgrade, and one that also pinned the
// bytes with an integrity attribute refuses the new script, as it asked to.
// GET /sdk gives the current versioned URL and its integrity hash.
public static class BrowserSdkEndpoints
{
    public const string ScriptPath = "/sdk/contentmax.js";
    public const string ContentType = "text/javascript; charset=utf-8";
    public const string PlainCacheControl = "public, max-age=300";
    public const string VersionedCacheControl = "public, max-age=31536000, immutable";

    public sealed record BrowserSdkManifest(string Url, string Version, string Integrity);

    public static IEndpointRouteBuilder MapBrowserSdk(this IEndpointRouteBuilder app)
    {
        // Read once: the bundle is part of this build and never changes while it runs.
        var bundle = BrowserSdkBundle.Load();
        var group = app.MapGroup("/sdk").WithTags("Browser SDK").AllowAnonymous();

        group.MapMethods("/contentmax.js", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string? v) => GetScript(bundle, context, v))
            .WithName("GetBrowserSdk")
            .WithSummary("The browser snippet. ?v=<version> (from GET /sdk) is cached for a year; another version redirects to the current one.");

        group.MapGet("", (HttpContext context) => GetManifest(bundle, context))
            .WithName("GetBrowserSdkManifest")
            .WithSummary("The snippet's current versioned URL and its Subresource Integrity hash (sha384).");

        return app;
    }

    internal static Results<FileContentHttpResult, RedirectHttpResult> GetScript(BrowserSdkBundle bundle, HttpContext context, string? v)
    {
        var headers = context.Response.Headers;
        // Any site may embed the script, also with crossorigin="anonymous" and an integrity attribute.
        headers.AccessControlAllowOrigin = "*";
        headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        headers.XContentTypeOptions = "nosniff";

        if (v is not null && v != bundle.Version)
        {
            // A redirect is an answer about the current version, so it is kept only as long as the plain URL.
            headers.CacheControl = PlainCacheControl;
            return TypedResults.Redirect(VersionedPath(context.Request, bundle));
        }

        headers.CacheControl = v is null ? PlainCacheControl : VersionedCacheControl;
        // With the ETag, a request whose If-None-Match matches is answered 304 without the body.
        return TypedResults.Bytes(bundle.Content, ContentType, entityTag: bundle.ETag);
    }

    internal static Ok<BrowserSdkManifest> GetManifest(BrowserSdkBundle bundle, HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers.AccessControlAllowOrigin = "*";
        context.Response.Headers.CacheControl = PlainCacheControl;
        // The address this request reached ingestion at; behind a proxy that rewrites
        // the host or scheme, forward them (X-Forwarded-*) or build the URL from version.
        var url = $"{request.Scheme}://{request.Host}{VersionedPath(request, bundle)}";
        return TypedResults.Ok(new BrowserSdkManifest(url, bundle.Version, bundle.Integrity));
    }

    private static string VersionedPath(HttpRequest request, BrowserSdkBundle bundle) =>
        $"{request.PathBase}{ScriptPath}?v={bundle.Version}";
}

// The bundle's bytes with what identifies them: a short content hash as the
// version and ETag, and the sha384 Subresource Integrity value pages can pin.
public sealed record BrowserSdkBundle(byte[] Content, string Version, string Integrity)
{
    public const string ResourceName = "sdk/contentmax.js";

    public EntityTagHeaderValue ETag { get; } = new($"\"{Version}\"");

    public static BrowserSdkBundle From(byte[] content) => new(
        content,
        Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)),
        "sha384-" + Convert.ToBase64String(SHA384.HashData(content)));

    public static BrowserSdkBundle Load()
    {
        using var stream = typeof(BrowserSdkBundle).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException(
                $"Ingestion was built without the browser snippet (embedded resource '{ResourceName}'). " +
                "Build it with Node.js and npm on the PATH; see services/ContentMax.Ingestion/BrowserSdk.targets.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return From(copy.ToArray());
    }
}
