using System.Diagnostics.Metrics;

namespace ContentMax.Monitoring.Client;

/// <summary>
/// What happened to the client's points, on the meter
/// <see cref="MeterName"/>: sent (the server has them), dropped (by reason)
/// and requests retried. Add the meter to the service's OpenTelemetry metrics
/// (<c>.AddMeter(ClientMetrics.MeterName)</c>) to export them.
/// </summary>
public sealed class ClientMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ContentMax.Monitoring.Client";

    /// <summary>Points the server accepted.</summary>
    public const string PointsSentName = "contentmax.client.points_sent";

    /// <summary>Points (or observations that would have become points) given up on, tagged with <c>reason</c>.</summary>
    public const string PointsDroppedName = "contentmax.client.points_dropped";

    /// <summary>Delivery attempts that failed and were tried again.</summary>
    public const string RequestsRetriedName = "contentmax.client.requests_retried";

    /// <summary>The buffer was full (MaxBufferedPoints).</summary>
    public const string BufferFull = "buffer_full";

    /// <summary>The name, a tag or the value broke MetricRules.</summary>
    public const string Invalid = "invalid";

    /// <summary>The server refused the batch (400, 401, 403, 413 or another 4xx).</summary>
    public const string Rejected = "rejected";

    /// <summary>Still buffered when the shutdown window ran out, or recorded after the client stopped.</summary>
    public const string Shutdown = "shutdown";

    /// <summary>Delivery failed in a way the client did not expect (a bug); logged with the exception.</summary>
    public const string Error = "error";

    private readonly Counter<long> _sent;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _retried;
    private long _sentTotal;
    private long _droppedTotal;
    private long _retriedTotal;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public ClientMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _sent = meter.CreateCounter<long>(PointsSentName, "{point}", "Points ContentMax accepted.");
        _dropped = meter.CreateCounter<long>(PointsDroppedName, "{point}", "Points given up on, by reason: buffer_full, invalid, rejected, shutdown, error.");
        _retried = meter.CreateCounter<long>(RequestsRetriedName, "{request}", "Delivery attempts that failed and were tried again.");
    }

    /// <summary>Points sent since start.</summary>
    public long Sent => Interlocked.Read(ref _sentTotal);

    /// <summary>Points dropped since start, for every reason.</summary>
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    /// <summary>Requests retried since start.</summary>
    public long Retried => Interlocked.Read(ref _retriedTotal);

    internal void AddSent(int count)
    {
        Interlocked.Add(ref _sentTotal, count);
        _sent.Add(count);
    }

    internal void AddDropped(long count, string reason)
    {
        if (count <= 0) return;
        Interlocked.Add(ref _droppedTotal, count);
        _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }

    internal void AddRetried()
    {
        Interlocked.Increment(ref _retriedTotal);
        _retried.Add(1);
    }
}
