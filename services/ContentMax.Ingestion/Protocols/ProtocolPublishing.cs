using System.Globalization;
using System.Runtime.InteropServices;
using ContentMax.Contracts;

namespace ContentMax.Ingestion.Protocols;

public static class ProtocolPublishing
{
    // Hands the points to the batcher in chunks of at most MetricRules.MaxBatchSize
    // (what one broker message may carry) and completes when the broker has
    // confirmed every chunk. Throws IngestionUnavailableException when any chunk
    // was refused or not confirmed: the protocol's answer is then 429/503, and
    // the sender retries the whole request. Chunks confirmed before the failure
    // stay stored; cumulative points (counters, histograms) are safe to resend,
    // as storage skips a point no newer than its series' last.
    public static async Task PublishAllAsync(this MetricBatcher batcher, List<MetricPoint> points, string source)
    {
        var pending = new List<Task>((points.Count + MetricRules.MaxBatchSize - 1) / MetricRules.MaxBatchSize);
        IngestionUnavailableException? refused = null;
        var all = CollectionsMarshal.AsSpan(points);
        for (var offset = 0; offset < all.Length; offset += MetricRules.MaxBatchSize)
        {
            var chunk = all.Slice(offset, Math.Min(MetricRules.MaxBatchSize, all.Length - offset)).ToArray();
            try
            {
                pending.Add(batcher.PublishAsync(chunk, source));
            }
            catch (IngestionUnavailableException ex)
            {
                refused = ex;
                break;
            }
        }

        // The chunks already handed over are awaited whatever happens, so none
        // is left unobserved and the answer waits for their outcome.
        await Task.WhenAll(pending);
        if (refused is not null) throw refused;
    }

    public static void SetRetryAfter(this HttpResponse response, TimeSpan retryAfter) =>
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
