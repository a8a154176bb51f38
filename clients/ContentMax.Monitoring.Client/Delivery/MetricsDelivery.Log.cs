using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Delivery;

// What MetricsDelivery tells the user's logs (source-generated messages).
internal sealed partial class MetricsDelivery
{
    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: cannot deliver metrics to {Target} ({Detail}); retrying with backoff while {Waiting} points wait.")]
    private static partial void LogFailing(ILogger logger, string target, string detail, int waiting);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information,
        Message = "ContentMax Monitoring: delivering metrics to {Target} again after {Attempts} failed attempts.")]
    private static partial void LogRecovered(ILogger logger, string target, int attempts);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: the server refused a batch of {Count} points ({Detail}); they are dropped and counted (reason rejected). Later refusals are logged at Debug.")]
    private static partial void LogRejected(ILogger logger, int count, string detail);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug,
        Message = "ContentMax Monitoring: the server refused a batch of {Count} points ({Detail}); they are dropped.")]
    private static partial void LogRejectedAgain(ILogger logger, int count, string detail);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: {Count} points no longer pass the server's rules and are dropped (first: {Problem}).")]
    private static partial void LogDroppedInvalid(ILogger logger, int count, string problem);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: not everything was delivered within the shutdown window ({Timeout}); {Left} series and points are dropped (reason shutdown).")]
    private static partial void LogShutdownTimeout(ILogger logger, TimeSpan timeout, int left);

    [LoggerMessage(EventId = 17, Level = LogLevel.Error,
        Message = "ContentMax Monitoring: forming the interval's points failed unexpectedly; they are lost.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error,
        Message = "ContentMax Monitoring: delivering a batch of {Count} points failed unexpectedly; it is dropped.")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, int count);
}
