using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Sentry;
using Sentry.AspNetCore;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// The hooks ContentMax gives the Sentry SDK: what is dropped, what is redacted,
// what every event says about the service, how transactions are named and
// sampled. They are plain methods so unit tests can call them directly.
public sealed class SentryCallbacks(
    ServiceIdentity identity,
    SensitiveDataRedactor redactor,
    IgnoredExceptionFilter ignoredExceptions,
    Func<bool> currentRequestAborted)
{
    public const string UnmatchedRoute = "unmatched route";

    public SentryEvent? BeforeSend(SentryEvent sentryEvent, SentryHint? hint = null)
    {
        if (ignoredExceptions.ShouldDrop(sentryEvent, currentRequestAborted()))
        {
            return null;
        }

        // An error raised before routing has no route template; never fall back to the raw path.
        if (string.IsNullOrEmpty(sentryEvent.TransactionName) && sentryEvent.Request?.Method is { Length: > 0 } method)
        {
            sentryEvent.TransactionName = $"{method.ToUpperInvariant()} {UnmatchedRoute}";
        }

        AddServiceContext(sentryEvent);
        // Sentry keeps its own trace ids; this ties an issue to the OTel trace in the Aspire dashboard.
        if (Activity.Current is { } activity && !sentryEvent.Tags.ContainsKey("otel.trace_id"))
        {
            sentryEvent.SetTag("otel.trace_id", activity.TraceId.ToHexString());
        }

        redactor.Redact(sentryEvent);
        return sentryEvent;
    }

    public SentryTransaction? BeforeSendTransaction(SentryTransaction transaction, SentryHint? hint = null)
    {
        // The SDK names a request without a route after its raw path
        // (TransactionNameSource.Url). NameUnroutedTransaction prevents that; a
        // transaction that still carries a path (ids, maybe secrets) is dropped.
        if (transaction.NameSource == TransactionNameSource.Url)
        {
            return null;
        }

        AddServiceContext(transaction);
        redactor.Redact(transaction);
        return transaction;
    }

    public Breadcrumb? BeforeBreadcrumb(Breadcrumb breadcrumb, SentryHint? hint = null)
    {
        var isHttp = breadcrumb.Type == "http" || breadcrumb.Category == "http";

        // Debug-level log lines are noise in an error report.
        if (breadcrumb.Level == BreadcrumbLevel.Debug && !isHttp)
        {
            return null;
        }

        var addData = isHttp && breadcrumb.Data?.ContainsKey("timestamp") != true
            ? new Dictionary<string, string> { ["timestamp"] = breadcrumb.Timestamp.ToUniversalTime().ToString("O") }
            : null;
        return redactor.Redact(breadcrumb, addData);
    }

    // Used by the SDK only when a request matched no endpoint (a 404, or a
    // middleware that answered before routing): "GET unmatched route".
    public static string NameUnroutedTransaction(HttpContext context) => UnmatchedRoute;

    // Health probes arrive every few seconds and would drown real traffic (the
    // OTel pipeline filters them too). null means "use TracesSampleRate".
    public static double? SampleTransaction(TransactionSamplingContext context) =>
        context.TryGetHttpPath() is { } path && IsHealthPath(path) ? 0.0 : null;

    private static bool IsHealthPath(string path) =>
        Extensions.IsHealthPath(new PathString(path));

    private void AddServiceContext(IEventLike item)
    {
        if (item is IHasTags tags)
        {
            tags.SetTag("service", identity.Name);
            tags.SetTag("version", identity.Version);
            tags.SetTag("host", identity.Host);
        }

        var app = item.Contexts.App;
        app.Name ??= identity.Name;
        app.Version ??= identity.Version;
        item.Contexts["service"] = new Dictionary<string, string>
        {
            ["name"] = identity.Name,
            ["version"] = identity.Version,
            ["host"] = identity.Host,
            ["environment"] = identity.Environment,
        };
    }
}
