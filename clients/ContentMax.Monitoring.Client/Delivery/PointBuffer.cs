using System.Threading.Channels;
using ContentMax.Contracts;

namespace ContentMax.Monitoring.Client.Delivery;

// The client's memory bound. One budget of MaxBufferedPoints covers the series
// being aggregated and the points formed but not yet delivered; whatever
// would exceed it is refused (and counted by the caller). Points wait here in
// order until the sender takes a batch and either delivers or drops it, and
// only then give their space back.
internal sealed class PointBuffer(int capacity)
{
    private readonly Queue<MetricPoint> _points = new();
    private readonly Lock _lock = new();
    // Wakes the sender: a write is a "points are waiting" signal, at most one outstanding.
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int _used;
    private bool _completed;

    public int Capacity => capacity;

    public int Used => Volatile.Read(ref _used);

    public int Waiting
    {
        get
        {
            lock (_lock) return _points.Count;
        }
    }

    public bool TryReserve()
    {
        var used = Volatile.Read(ref _used);
        while (used < capacity)
        {
            var seen = Interlocked.CompareExchange(ref _used, used + 1, used);
            if (seen == used) return true;
            used = seen;
        }

        return false;
    }

    public void Release(int count) => Interlocked.Add(ref _used, -count);

    // Queues the points that fit and returns how many did not.
    public int Add(IReadOnlyList<MetricPoint> points)
    {
        var refused = 0;
        lock (_lock)
        {
            foreach (var point in points)
            {
                if (!_completed && TryReserve()) _points.Enqueue(point);
                else refused++;
            }
        }

        if (refused < points.Count) _signal.Writer.TryWrite(true);
        return refused;
    }

    // Moves up to `max` waiting points into `batch`; they keep their space
    // until the caller releases it.
    public int Take(List<MetricPoint> batch, int max)
    {
        lock (_lock)
        {
            while (batch.Count < max && _points.TryDequeue(out var point)) batch.Add(point);
            return batch.Count;
        }
    }

    // Waits until points are waiting; false once the buffer is completed and empty.
    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_lock)
            {
                if (_points.Count > 0) return true;
                if (_completed) return false;
            }

            await _signal.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // No more points will be added; the sender drains what is waiting and stops.
    public void Complete()
    {
        lock (_lock) _completed = true;
        _signal.Writer.TryWrite(true);
    }

    // Takes every waiting point out (when giving up at shutdown) and returns how many there were.
    public int Clear()
    {
        int count;
        lock (_lock)
        {
            count = _points.Count;
            _points.Clear();
        }

        Release(count);
        return count;
    }
}
