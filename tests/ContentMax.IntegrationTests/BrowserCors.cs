using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ContentMax.IntegrationTests;

// The browser SDKs post to Sentry and PostHog from the dashboard's origin, so
// the local stand-ins answer CORS as the real services do: any origin,
// credentials allowed, preflights answered without reaching an endpoint.
internal static class BrowserCors
{
    public static WebApplication UseBrowserCors(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var origin = context.Request.Headers.Origin.ToString();
            if (origin.Length > 0)
            {
                var headers = context.Response.Headers;
                headers.AccessControlAllowOrigin = origin;
                headers.AccessControlAllowCredentials = "true";
                headers.AccessControlExposeHeaders = "Retry-After, X-Sentry-Rate-Limits";
                headers.Vary = "Origin";
            }

            if (HttpMethods.IsOptions(context.Request.Method))
            {
                var headers = context.Response.Headers;
                headers.AccessControlAllowMethods = "GET, POST, OPTIONS";
                headers.AccessControlAllowHeaders = context.Request.Headers.AccessControlRequestHeaders.ToString() is { Length: > 0 } requested ? requested : "Content-Type";
                headers.AccessControlMaxAge = "600";
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            await next(context);
        });
        return app;
    }
}
