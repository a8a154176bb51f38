using System.Collections.Concurrent;
using ContentMax.Contracts;
using ContentMax.Monitoring.Client.Delivery;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Aggregation;

// Folds observations into one point per series and flush interval, so a
// service sends a few points a second however many requests it serves.
// A series is validated against MetricRules once, when it is created; it then
// holds one unit of the buffer until it retires (a whole interval idle).
// Nothing here throws at the caller: what cannot be recorded is counted as
// dropped, and each invalid name is logged once.
internal sealed partial class MetricAggregator
{
    // Invalid names are logged once each, up to this many, so a bug that makes
    // up names cannot grow the set without end.
    private const int MaxReportedNames = 1000;

    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();
    private readonly ConcurrentDictionary<string, bool> _reported = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _shared;
    private readonly PointBuffer _buffer;
    private readonly ClientMetrics _metrics;
    private readonly ILogger _logger;
    private long _lastFullWarning = -60_000;
    private volatile bool _closed;

    public MetricAggregator(ContentMaxMonitoringOptions options, PointBuffer buffer, ClientMetrics metrics, ILogger<MetricAggregator> logger)
    {
        _buffer = buffer;
        _metrics = metrics;
        _logger = logger;
        _shared = new Dictionary<string, string>(options.Tags, StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(options.ServiceName)) _shared["service"] = options.ServiceName;
    }

    public int SeriesCount => _series.Count;

    public void Record(SeriesKey key, double value, long times = 1, SeriesKind kind = SeriesKind.Distribution)
    {
        Series? series = null;
        Record(ref series, key, value, times, kind);
    }

    // For callers that keep the series between calls (the middleware keeps one
    // per route, method and status): no lookup while the series lives.
    public void Record(ref Series? cached, SeriesKey key, double value, long times = 1, SeriesKind kind = SeriesKind.Distribution)
    {
        if (!double.IsFinite(value) || times < 1)
        {
            Invalid(key.Name, !double.IsFinite(value) ? "the value must be a finite number" : "the count of observations must be at least 1");
            return;
        }

        var series = cached;
        if (series is not null && series.TryRecord(value, times)) return;

        // A series that retired between the lookup and the record is replaced once more.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            series = Acquire(key, kind);
            if (series is null) return;
            cached = series;
            if (series.TryRecord(value, times)) return;
        }

        _metrics.AddDropped(1, ClientMetrics.BufferFull);
    }

    // The points of the interval that ends now. Series that were idle for the
    // whole interval retire and give their buffer space back.
    public List<MetricPoint> Drain(DateTimeOffset now)
    {
        var points = new List<MetricPoint>();
        foreach (var (key, series) in _series)
        {
            if (series.Drain(now) is { } point)
            {
                points.Add(point);
            }
            else if (_series.TryRemove(new KeyValuePair<SeriesKey, Series>(key, series)))
            {
                _buffer.Release(1);
            }
        }

        return points;
    }

    // The last points at shutdown: every series is drained and retired, and
    // from then on observations are dropped (reason "shutdown").
    public List<MetricPoint> Close(DateTimeOffset now)
    {
        _closed = true;
        var points = Drain(now);
        // Whatever arrived during the first pass, and the retirement of every series.
        points.AddRange(Drain(now));
        return points;
    }

    private Series? Acquire(SeriesKey key, SeriesKind kind)
    {
        if (_series.TryGetValue(key, out var existing))
        {
            if (!existing.IsRetired) return existing;
            // Retired by a flush that has not removed it yet: whoever removes it gives its space back.
            if (_series.TryRemove(new KeyValuePair<SeriesKey, Series>(key, existing))) _buffer.Release(1);
        }

        if (_closed)
        {
            _metrics.AddDropped(1, ClientMetrics.Shutdown);
            return null;
        }

        var tags = new Dictionary<string, string>(_shared, StringComparer.Ordinal);
        foreach (var (tag, value) in key.Tags)
        {
            if (tag is null || value is null)
            {
                Invalid(key.Name, "tag keys and values must not be null");
                return null;
            }

            tags[tag] = value;
        }

        var problem = MetricRules.CheckName(key.Name) is { } reason ? "the name " + reason
            : MetricRules.CheckTags(tags).Select(p => $"{p.Field} {p.Reason}").FirstOrDefault();
        if (problem is not null)
        {
            Invalid(key.Name, problem);
            return null;
        }

        if (!_buffer.TryReserve())
        {
            BufferFull();
            return null;
        }

        var created = new Series(key.Name, tags, kind);
        var series = _series.GetOrAdd(key, created);
        if (!ReferenceEquals(series, created)) _buffer.Release(1);
        return series;
    }

    private void Invalid(string? name, string reason)
    {
        _metrics.AddDropped(1, ClientMetrics.Invalid);
        name ??= "";
        if (_reported.Count < MaxReportedNames && _reported.TryAdd(name, true))
        {
            LogInvalid(_logger, name.Length <= 200 ? name : name[..200] + "…", reason);
        }
    }

    private void BufferFull()
    {
        _metrics.AddDropped(1, ClientMetrics.BufferFull);
        // At most one warning a minute while the buffer stays full.
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFullWarning);
        if (now - last >= 60_000 && Interlocked.CompareExchange(ref _lastFullWarning, now, last) == last)
        {
            LogBufferFull(_logger, _buffer.Capacity);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: metric '{Name}' is not sent because {Reason}. Its observations are dropped and counted (reason invalid); this is logged once per name.")]
    private static partial void LogInvalid(ILogger logger, string name, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "ContentMax Monitoring: the buffer is full ({Capacity} series and points waiting, ContentMaxMonitoring:MaxBufferedPoints); new observations are dropped and counted until points are delivered.")]
    private static partial void LogBufferFull(ILogger logger, int capacity);
}
