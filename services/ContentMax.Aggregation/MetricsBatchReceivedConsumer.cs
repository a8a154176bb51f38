using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;
using MassTransit;

namespace ContentMax.Aggregation;

// Stores each batch of metrics, whether ingestion published it or another
// service did so directly. A batch that breaks MetricRules is rejected whole
// and lands in the error queue with its reasons; nothing of it is stored.
public sealed class MetricsBatchReceivedConsumer(MetricStore store, TimeProvider time) : IConsumer<MetricsBatchReceived>
{
    public async Task Consume(ConsumeContext<MetricsBatchReceived> context)
    {
        // Timestamps are judged against when the message was sent, so a backlog
        // drained after an outage is not rejected for having waited in the queue.
        var sentAt = context.SentTime is { } sent ? new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)) : time.GetUtcNow();
        var now = time.GetUtcNow();
        var reference = sentAt < now ? sentAt : now;

        var errors = MetricRules.Check(context.Message.Metrics, reference);
        if (errors.Count > 0)
        {
            throw new InvalidMetricsMessageException(errors);
        }

        await store.StoreAsync(context.Message.Metrics, context.CancellationToken);
    }
}

public sealed class MetricsBatchReceivedConsumerDefinition : ConsumerDefinition<MetricsBatchReceivedConsumer>
{
    public MetricsBatchReceivedConsumerDefinition()
    {
        EndpointName = MessagingTopology.MetricsStorageQueue;
        // Each message carries up to 1000 metrics: a small prefetch keeps memory
        // bounded while two stores run side by side.
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<MetricsBatchReceivedConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = 8;
        // Database outages are retried with backoff for a few minutes before a
        // message is given up to the error queue; invalid messages go there at once.
        endpoint.UseMessageRetry(retry =>
        {
            retry.Exponential(12, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
            retry.Ignore<InvalidMetricsMessageException>();
        });
    }
}

public sealed class InvalidMetricsMessageException(IReadOnlyList<MetricError> errors)
    : Exception("Invalid metrics: " + string.Join("; ", errors.Take(20)) + (errors.Count > 20 ? $"; and {errors.Count - 20} more" : ""))
{
    public IReadOnlyList<MetricError> Errors { get; } = errors;
}
