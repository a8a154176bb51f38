using System.Diagnostics.Metrics;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults;

namespace ContentMax.Aggregation.Storage;

// Group commit for the storage consumer. Each consumed message hands its
// validated points here; while a write is in flight, the points of messages
// that arrive meanwhile gather, and the next write stores all of them in one
// MetricStore statement. Every caller's task completes when the statement that
// carried its points has committed, or fails with that statement's error, so a
// message is still acknowledged only once its rows are stored.
//
// There is no timer: when storage is idle a lone message is written at once,
// and under load each write grows by itself to whatever arrived during the
// previous one. Fewer, larger statements matter because each rollup row
// (name × minute and name × hour) is merged once per statement, whatever the
// number of points behind it.
//
// A combined write that fails for any reason other than a database outage is
// split and each message is written alone, so one poison message cannot drag
// the messages it was grouped with to the error queue.
public sealed class GroupCommit(MetricStore store)
{
    // Writers run side by side so one statement's round trip and commit
    // overlap with the next one's work.
    public const int MaxWriters = 2;

    // A bound on one statement's arrays; larger gatherings become several writes.
    public const int MaxPointsPerWrite = 5_000;

    private static readonly Meter Meter = new(ContentMaxTelemetry.MeterName);
    private static readonly Histogram<int> WritePoints =
        Meter.CreateHistogram<int>("contentmax.aggregation.write_points", "{metric}", "Metrics stored per storage statement");
    private static readonly Histogram<int> WriteMessages =
        Meter.CreateHistogram<int>("contentmax.aggregation.write_messages", "{message}", "Broker messages combined per storage statement");

    private readonly Lock _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private int _writers;

    public Task StoreAsync(IReadOnlyList<MetricPoint> points)
    {
        var pending = new Pending(points);
        bool startWriter;
        lock (_gate)
        {
            _waiting.Enqueue(pending);
            startWriter = _writers < MaxWriters;
            if (startWriter) _writers++;
        }

        if (startWriter) _ = Task.Run(WriteWhileWaitingAsync);
        return pending.Stored.Task;
    }

    private async Task WriteWhileWaitingAsync()
    {
        var group = new List<Pending>();
        while (true)
        {
            group.Clear();
            lock (_gate)
            {
                var points = 0;
                while (_waiting.TryPeek(out var next) && (group.Count == 0 || points + next.Points.Count <= MaxPointsPerWrite))
                {
                    group.Add(_waiting.Dequeue());
                    points += next.Points.Count;
                }

                if (group.Count == 0)
                {
                    _writers--;
                    return;
                }
            }

            await WriteAsync(group);
        }
    }

    private async Task WriteAsync(List<Pending> group)
    {
        try
        {
            var points = group.Count == 1 ? group[0].Points : Combine(group);
            await store.StoreAsync(points, CancellationToken.None);
            WritePoints.Record(points.Count);
            WriteMessages.Record(group.Count);
            foreach (var pending in group) pending.Stored.TrySetResult();
        }
        catch (Exception ex) when (group.Count > 1 && !DatabaseOutage.IsOutage(ex))
        {
            foreach (var pending in group)
            {
                try
                {
                    await store.StoreAsync(pending.Points, CancellationToken.None);
                    pending.Stored.TrySetResult();
                }
                catch (Exception alone)
                {
                    pending.Stored.TrySetException(alone);
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in group) pending.Stored.TrySetException(ex);
        }
    }

    // One list of every point in the group. A point whose id must be unique
    // on its own (RequireUniqueId: a client id without a timestamp) is kept
    // once: within one statement the database cannot see the other copy.
    private static List<MetricPoint> Combine(List<Pending> group)
    {
        var all = new List<MetricPoint>(group.Sum(p => p.Points.Count));
        HashSet<Guid>? uniqueIds = null;
        foreach (var pending in group)
        {
            foreach (var point in pending.Points)
            {
                if (point.RequireUniqueId && !(uniqueIds ??= []).Add(point.Id)) continue;
                all.Add(point);
            }
        }

        return all;
    }

    private sealed class Pending(IReadOnlyList<MetricPoint> points)
    {
        public IReadOnlyList<MetricPoint> Points { get; } = points;

        public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
