using ContentMax.Contracts;
using Microsoft.Extensions.Options;

namespace ContentMax.Aggregation.Storage;

// Group commit for the storage consumer. Each consumed message hands its
// validated points here; while a write is in flight, the messages that arrive
// meanwhile gather, and the next write stores all of them in one MetricStore
// transaction. Every caller's task completes when the transaction that carried
// its message has committed, or fails with that transaction's error, so a
// message is still acknowledged only once its rows are stored.
//
// A write waits for Aggregation:StorageLinger (100 ms) after its first
// message, or until MaxPointsPerWrite points are waiting, whichever comes
// first; under load a second writer starts as soon as a full write is waiting,
// so two run side by side. Fewer, larger writes matter because each rollup row
// (name × minute and name × hour) is merged once per write, whatever the
// number of points behind it: measured under load, writes of ~4k points spent
// as long merging rollups as copying rows; writes of 20k points spend a
// fraction of that.
//
// A combined write that fails for any reason other than a database outage is
// split and each message is written alone, so one poison message cannot drag
// the messages it was grouped with to the error queue. Redelivered messages
// and repeated client ids are skipped inside the write (MetricStore) and
// counted in contentmax.aggregation.skipped.
public sealed class GroupCommit(MetricStore store, IOptions<AggregationOptions> options, TimeProvider time, AggregationMetrics metrics)
{
    // Writers run side by side so one write's round trips and commit overlap
    // with the next one's work.
    public const int MaxWriters = 2;

    // A bound on one write; larger gatherings become several writes.
    public const int MaxPointsPerWrite = 20_000;


    private readonly Lock _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private int _waitingPoints;
    private int _writers;
    private TaskCompletionSource _full = NewSignal();

    public Task StoreAsync(StorageMessage message)
    {
        var pending = new Pending(message, time.GetTimestamp());
        bool startWriter;
        lock (_gate)
        {
            _waiting.Enqueue(pending);
            _waitingPoints += message.Points.Count;
            var full = _waitingPoints >= MaxPointsPerWrite;
            if (full) _full.TrySetResult();
            startWriter = _writers == 0 || (full && _writers < MaxWriters);
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
            // Linger until a full write is waiting or the oldest message has waited long enough.
            Task full;
            TimeSpan wait;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _writers--;
                    return;
                }

                wait = _waitingPoints >= MaxPointsPerWrite ? TimeSpan.Zero : options.Value.StorageLinger - time.GetElapsedTime(_waiting.Peek().Arrived);
                full = _full.Task;
            }

            if (wait > TimeSpan.Zero) await Task.WhenAny(full, Task.Delay(wait, time));

            group.Clear();
            lock (_gate)
            {
                var points = 0;
                while (_waiting.TryPeek(out var next) && (group.Count == 0 || points + next.Message.Points.Count <= MaxPointsPerWrite))
                {
                    group.Add(_waiting.Dequeue());
                    points += next.Message.Points.Count;
                }

                _waitingPoints -= points;
                if (_waitingPoints < MaxPointsPerWrite && _full.Task.IsCompleted) _full = NewSignal();
            }

            if (group.Count > 0) await WriteAsync(group);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task WriteAsync(List<Pending> group)
    {
        try
        {
            var result = await store.StoreAsync(group.Select(p => p.Message).ToList(), CancellationToken.None);
            Record(result, group.Count);
            foreach (var pending in group) pending.Stored.TrySetResult();
        }
        catch (Exception ex) when (group.Count > 1 && !DatabaseOutage.IsOutage(ex))
        {
            foreach (var pending in group)
            {
                try
                {
                    Record(await store.StoreAsync([pending.Message], CancellationToken.None), 1);
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

    private void Record(StoreResult result, int messages)
    {
        metrics.WritePoints.Record(result.Stored);
        metrics.WriteMessages.Record(messages);
        if (result.RedeliveredMessages > 0) metrics.Skipped.Add(result.RedeliveredMessages, new KeyValuePair<string, object?>("reason", "redelivered_message"));
        if (result.DuplicateIds > 0) metrics.Skipped.Add(result.DuplicateIds, new KeyValuePair<string, object?>("reason", "duplicate_id"));
        if (result.RepeatedCumulativePoints > 0) metrics.Skipped.Add(result.RepeatedCumulativePoints, new KeyValuePair<string, object?>("reason", "repeated_cumulative_point"));
    }

    private sealed class Pending(StorageMessage message, long arrived)
    {
        public StorageMessage Message { get; } = message;

        public long Arrived { get; } = arrived;

        public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
