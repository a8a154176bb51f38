using Sentry;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// Decides which exceptions are noise rather than errors: a client that hangs up
// (connection reset, a half-read body) or cancels its own request. Entries are
// type names, full ("System.OperationCanceledException") or short
// ("OperationCanceledException"); a listed type also matches its subclasses.
// A cancellation is dropped only when the request it belongs to was aborted:
// the same exception from a timed-out HttpClient call is a real problem.
public sealed class IgnoredExceptionFilter(IEnumerable<string> typeNames)
{
    private readonly HashSet<string> _names = new(typeNames.Select(n => n.Trim()).Where(n => n.Length > 0), StringComparer.Ordinal);

    public bool ShouldDrop(SentryEvent sentryEvent, bool requestAborted)
    {
        if (sentryEvent.Exception is { } exception)
        {
            return ShouldDrop(exception, requestAborted);
        }

        // Events built from log entries carry only the exceptions' type names;
        // the outermost exception is the last one.
        var outermost = sentryEvent.SentryExceptions?.LastOrDefault()?.Type;
        if (outermost is null || !_names.Contains(outermost) && !_names.Contains(ShortName(outermost)))
        {
            return false;
        }

        return !IsCancellationName(outermost) || requestAborted;
    }

    public bool ShouldDrop(Exception exception, bool requestAborted)
    {
        // An AggregateException around one exception is that exception.
        while (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        for (var type = exception.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            if (_names.Contains(type.FullName ?? type.Name) || _names.Contains(type.Name))
            {
                return exception is not OperationCanceledException || requestAborted;
            }
        }

        return false;
    }

    private static bool IsCancellationName(string typeName) =>
        ShortName(typeName) is nameof(OperationCanceledException) or nameof(TaskCanceledException);

    private static string ShortName(string typeName) => typeName[(typeName.LastIndexOf('.') + 1)..];
}
