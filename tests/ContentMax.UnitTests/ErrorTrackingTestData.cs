using System.Text;
using System.Text.Json;
using ContentMax.ServiceDefaults.ErrorTracking;
using Sentry;

namespace ContentMax.UnitTests;

// Shared pieces for the error-tracking tests: a redactor with the default
// deny-list, callbacks wired to it, and the JSON Sentry would actually send.
internal static class ErrorTrackingTestData
{
    public static readonly ServiceIdentity Identity = new("ingestion", "0.1.0+abc123", "test-host", "test");

    public static SensitiveDataRedactor Redactor(params string[] extraFields) =>
        new(ErrorTrackingSettings.DefaultRedactedFields.Concat(extraFields));

    public static SentryCallbacks Callbacks(bool requestAborted = false, params string[] extraIgnored) => new(
        Identity,
        Redactor(),
        new IgnoredExceptionFilter(ErrorTrackingSettings.DefaultIgnoredExceptions.Concat(extraIgnored)),
        () => requestAborted);

    // The bytes the SDK would put in the envelope for this event.
    public static string Serialize(Action<Utf8JsonWriter, Sentry.Extensibility.IDiagnosticLogger?> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, null);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Serialize(SentryEvent sentryEvent) => Serialize(sentryEvent.WriteTo);
    public static string Serialize(SentryTransaction transaction) => Serialize(transaction.WriteTo);
}
