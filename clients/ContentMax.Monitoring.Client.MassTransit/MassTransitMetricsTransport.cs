using ContentMax.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client.MassTransit;

// Publishes each batch as one ContentMax.Contracts.MetricsBatchReceived (the
// shared contract: MassTransit matches messages by full type name) in its JSON
// form, Metrics, through the service's own bus. Aggregation's storage queue
// is bound to that message type, so the points skip the HTTP hop.
//
// A point that stands for many observations travels as a MetricPoint with a
// Distribution and Value = the sum of the observations; every point carries
// the client's id with RequireUniqueId, so a batch published again (after a
// publish that timed out but did reach the broker) is stored once. The batch
// is checked with MetricRules first: the consumer rejects a message whole,
// into the error queue, when one point is invalid.
internal sealed class MassTransitMetricsTransport(IBus bus, IOptions<ContentMaxMonitoringOptions> options, TimeProvider time) : IMetricsTransport
{
    public async Task<DeliveryResult> SendAsync(IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        if (points.Count > MetricRules.MaxBatchSize)
        {
            // The sender never forms larger batches; a message must not carry more.
            for (var start = 0; start < points.Count; start += MetricRules.MaxBatchSize)
            {
                var part = points.Skip(start).Take(MetricRules.MaxBatchSize).ToList();
                var result = await SendAsync(part, cancellationToken).ConfigureAwait(false);
                if (result.Status != DeliveryStatus.Delivered) return result;
            }

            return DeliveryResult.Delivered;
        }

        var errors = MetricRules.Check(points, time.GetUtcNow());
        if (errors.Count > 0)
        {
            return DeliveryResult.Rejected($"{errors.Count} problems, first {errors[0]}");
        }

        var message = new MetricsBatchReceived
        {
            Metrics = [.. points.Select(p => p.RequireUniqueId ? p : p with { RequireUniqueId = true })],
            Source = options.Value.ServiceName ?? "unknown",
        };

        // Publish returns once the broker has confirmed the message; a broker
        // that is down makes it throw or time out, and the sender retries.
        // Mandatory: until aggregation has bound its storage queue (it has never
        // run against this broker), the broker returns the message instead of
        // confirming it into no queue, and the sender retries it too.
        await bus.Publish(message, Mandatory, cancellationToken).ConfigureAwait(false);
        return DeliveryResult.Delivered;
    }

    private static readonly IPipe<PublishContext<MetricsBatchReceived>> Mandatory =
        Pipe.Execute<PublishContext<MetricsBatchReceived>>(context => context.Mandatory = true);
}
