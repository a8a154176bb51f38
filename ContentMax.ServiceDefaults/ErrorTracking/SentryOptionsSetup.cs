using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Sentry.AspNetCore;
using Sentry.Extensions.Logging;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// Applies ContentMax's decisions on top of what the SDK bound from the Sentry
// configuration section. Registered after the SDK's own setup, so it has the
// last word on the values that matter (privacy, release, sampling, hooks).
public sealed class SentryOptionsSetup<TOptions>(
    ErrorTrackingSettings settings,
    ServiceIdentity identity,
    IHttpContextAccessor httpContextAccessor) : IConfigureOptions<TOptions>
    where TOptions : SentryLoggingOptions
{
    public void Configure(TOptions options)
    {
        options.Dsn = settings.Dsn;
        options.Environment = identity.Environment;
        options.Release = settings.Release ?? identity.Release;
        options.TracesSampleRate = settings.TracesSampleRate;
        options.TracesSampler = SentryCallbacks.SampleTransaction;

        // No user IPs, no cookies, no user names from the OS, whatever the configuration says.
        options.SendDefaultPii = false;
        options.IsEnvironmentUser = false;

        var callbacks = new SentryCallbacks(
            identity,
            new SensitiveDataRedactor(settings.RedactedFields),
            new IgnoredExceptionFilter(settings.IgnoredExceptions),
            () => httpContextAccessor.HttpContext?.RequestAborted.IsCancellationRequested == true);
        options.SetBeforeSend(callbacks.BeforeSend);
        options.SetBeforeSendTransaction(callbacks.BeforeSendTransaction);
        options.SetBeforeBreadcrumb(callbacks.BeforeBreadcrumb);

        if (options is SentryAspNetCoreOptions aspNetCore)
        {
            aspNetCore.TransactionNameProvider = SentryCallbacks.NameUnroutedTransaction;
            aspNetCore.PreferTransactionNameProvider = false;
        }
    }
}
