using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Sentry;

namespace ContentMax.ServiceDefaults.ErrorTracking;

public enum ErrorLevel
{
    Fatal,
    Error,
    Warning,
    Info,
}

public sealed record ErrorUser(string? Id = null, string? Email = null);

// The server-side counterpart of the web app's captureError and
// measureTransaction helpers. Inject it anywhere; with Sentry disabled it
// reports nothing but still runs the measured work.
public sealed class ErrorReporter(IHub hub, IHttpContextAccessor? httpContextAccessor, SensitiveDataRedactor redactor, TimeProvider time)
{
    public bool Enabled => hub.IsEnabled;

    // Tags default to component=unknown; extra always carries the time and, in a
    // request, the URL (secrets filtered); the user only when one is given.
    public SentryId CaptureError(
        Exception exception,
        IReadOnlyDictionary<string, string>? tags = null,
        IReadOnlyDictionary<string, object?>? extra = null,
        ErrorUser? user = null,
        ErrorLevel level = ErrorLevel.Error)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return hub.IsEnabled ? hub.CaptureEvent(BuildEvent(exception, tags, extra, user, level)) : SentryId.Empty;
    }

    public SentryEvent BuildEvent(
        Exception exception,
        IReadOnlyDictionary<string, string>? tags = null,
        IReadOnlyDictionary<string, object?>? extra = null,
        ErrorUser? user = null,
        ErrorLevel level = ErrorLevel.Error)
    {
        var sentryEvent = new SentryEvent(exception) { Level = ToSentryLevel(level) };

        sentryEvent.SetTag("component", "unknown");
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            sentryEvent.SetTag(key, value);
        }

        sentryEvent.SetExtra("timestamp", time.GetUtcNow().ToString("O"));
        if (httpContextAccessor?.HttpContext?.Request is { } request)
        {
            sentryEvent.SetExtra("url", redactor.ScrubText(request.GetDisplayUrl()));
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, object?>())
        {
            sentryEvent.SetExtra(key, value);
        }

        if (user is not null)
        {
            sentryEvent.User = new SentryUser { Id = user.Id, Email = user.Email };
        }

        return sentryEvent;
    }

    // Runs the work as a Sentry transaction (and an OTel activity, so the Aspire
    // dashboard sees it too): status ok or internal_error, always finished, the
    // work's exception rethrown unchanged.
    public async Task<T> MeasureTransaction<T>(string name, string operation, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var activity = ContentMaxTelemetry.ActivitySource.StartActivity(name);
        activity?.SetTag("operation", operation);

        var transaction = hub.IsEnabled ? hub.StartTransaction(name, operation) : null;
        // A scope of its own, so spans started inside the work attach to this
        // transaction without replacing the request's transaction afterwards.
        using var scope = transaction is null ? null : hub.PushScope();
        if (transaction is not null)
        {
            hub.ConfigureScope(static (s, t) => s.Transaction = t, transaction);
        }

        try
        {
            var result = await work().ConfigureAwait(false);
            transaction?.Finish(SpanStatus.Ok);
            activity?.SetStatus(ActivityStatusCode.Ok);
            return result;
        }
        catch (Exception e)
        {
            transaction?.Finish(e, SpanStatus.InternalError);
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }
    }

    public Task MeasureTransaction(string name, string operation, Func<Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return MeasureTransaction(name, operation, async () =>
        {
            await work().ConfigureAwait(false);
            return true;
        });
    }

    private static SentryLevel ToSentryLevel(ErrorLevel level) => level switch
    {
        ErrorLevel.Fatal => SentryLevel.Fatal,
        ErrorLevel.Warning => SentryLevel.Warning,
        ErrorLevel.Info => SentryLevel.Info,
        _ => SentryLevel.Error,
    };
}
