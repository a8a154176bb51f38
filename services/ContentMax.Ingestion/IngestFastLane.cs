using System.Diagnostics;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion;

// POST /api/metrics from a server (its key in a header, no Origin) is
// ingestion's hottest request: tens of thousands a second, a single metric
// each. Down the full pipeline, generic middleware took 6.4% of its CPU
// samples (docs/benchmarks.md): the authentication service building a
// handler and a ticket, the authorization middleware evaluating the
// endpoint's policy, routing to the endpoint's delegate, parameter binding
// from a request scope. This middleware, after routing has matched the
// endpoint, does the same checks directly (the key ring's lookup, the ingest
// role, the key's request limit) and calls the endpoint's own handler: 1.1%.
//
// Anything else goes down the full pipeline and is answered exactly as
// before: no key, an unknown key (the invalid-key throttle), a key without
// the ingest role (403), a key in the query string, a browser's request
// (CORS). So every answer the lane does not give is the framework's.
public static class IngestFastLane
{
    // Endpoint metadata: the endpoint this lane serves.
    public sealed class Served
    {
        public static readonly Served Instance = new();

        private Served()
        {
        }
    }

    // Goes after routing (which WebApplication runs first) and the exception
    // handler, before CORS and authentication.
    public static IApplicationBuilder UseIngestFastLane(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var keys = services.GetRequiredService<ApiKeyRing>();
        var limiter = services.GetRequiredService<KeyRateLimiter>();
        var batcher = services.GetRequiredService<MetricBatcher>();
        var cardinality = services.GetRequiredService<CardinalityGuard>();
        var options = services.GetRequiredService<IOptions<IngestionOptions>>();
        var time = services.GetRequiredService<TimeProvider>();

        return app.Use(async (context, next) =>
        {
            if (Takes(context, keys) is not { } identity)
            {
                await next(context);
                return;
            }

            context.User = identity.Principal;
            Activity.Current?.SetTag("contentmax.api_key", identity.Name);
            if (!await limiter.AcquireRequestAsync(context, identity.Name, identity.Role)) return;

            var result = await MetricIngestionEndpoints.IngestAsync(context.Request, batcher, cardinality, options, time, context.RequestAborted);
            await result.ExecuteAsync(context);
        });
    }

    // The key's identity when the lane serves the request; null when it goes
    // down the full pipeline.
    internal static ApiKeyIdentity? Takes(HttpContext context, ApiKeyRing keys) =>
        context.GetEndpoint()?.Metadata.GetMetadata<Served>() is not null
        && context.Request.Headers.Origin.Count == 0
        && ApiKeyAuthenticationHandler.ReadKey(context.Request) is (string key, false)
        && keys.Find(key) is { } identity
        && identity.Roles.Contains(ApiRoles.Ingest)
            ? identity
            : null;
}
