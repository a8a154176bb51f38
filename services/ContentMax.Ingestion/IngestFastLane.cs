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
// role, the key's request and metric limits, its cardinality) and runs the
// endpoint's own admission (MetricIngestionEndpoints.AdmitAsync) in one
// asynchronous method: the request's only suspension is the broker's
// confirm, and it allocates about 2 KB where the full pipeline took 4.5 KB.
//
// Most such requests never reach Kestrel's HTTP layer: the connection lane
// (ConnectionLane/IngestConnectionLane.cs) answers them first. This lane
// serves the ones it hands on: a Bearer token, a header it does not read,
// HTTPS, a body over 64 KiB.
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

    // Goes after routing (which WebApplication runs first), the exception
    // handler and self-monitoring, before status-code pages, CORS and
    // authentication: every answer it gives has its body already.
    public static IApplicationBuilder UseIngestFastLane(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var keys = services.GetRequiredService<ApiKeyRing>();
        var limiter = services.GetRequiredService<KeyRateLimiter>();
        var batcher = services.GetRequiredService<MetricBatcher>();
        var cardinality = services.GetRequiredService<CardinalityGuard>();
        var options = services.GetRequiredService<IOptions<IngestionOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();

        return app.Use((context, next) => Takes(context, keys) is { } identity ? ServeAsync(context, identity) : next(context));

        // The request's one asynchronous method: admission completes without
        // awaiting (its body is in), so only the broker wait suspends it.
        async Task ServeAsync(HttpContext context, ApiKeyIdentity identity)
        {
            context.User = identity.Principal;
            // The key names an exported span; most ingest spans are left out
            // (HighVolumeTracing), and those that end in an error are kept.
            var activity = Activity.Current;
            if (activity?.Recorded == true) TagKey(activity, identity);
            if (!await limiter.AcquireRequestAsync(context, identity.Name, identity.Role))
            {
                TagKey(activity, identity);
                return;
            }

            var admission = await MetricIngestionEndpoints.AdmitAsync(
                context.Request, identity.Name, identity.Role, limiter, batcher, cardinality, options, time, context.RequestAborted);
            if (admission.Answer is null) await admission.Published!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var answer = (admission.Answer ?? MetricIngestionEndpoints.Settle(context, admission)).Result;
            if (answer is not IngestAcceptedResult) TagKey(activity, identity);
            // A 202 left out of the trace sample needs nothing more from its span:
            // this skips the framework's and the instrumentation's end-of-request
            // tags and the export pipeline. Errors keep them (and are exported).
            else if (activity is { Recorded: false }) activity.IsAllDataRequested = false;
            await answer.ExecuteAsync(context);
        }
    }

    private static void TagKey(Activity? activity, ApiKeyIdentity identity) => activity?.SetTag("contentmax.api_key", identity.Name);

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
