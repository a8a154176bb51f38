using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ContentMax.Aggregation;

// Stores each batch of metrics, whether ingestion published it (packed) or
// another service did so directly (JSON). A batch that breaks MetricRules, or
// whose packed body cannot be decoded, is rejected whole and lands in the
// error queue with its reasons; nothing of it is stored. Valid batches are
// stored through GroupCommit, which writes the messages in flight together;
// the message is acknowledged once its transaction commits. A message that
// was stored before (a redelivery) is recognised by its id and skipped.
public sealed class MetricsBatchReceivedConsumer(GroupCommit storage, TimeProvider time) : IConsumer<MetricsBatchReceived>
{
    public async Task Consume(ConsumeContext<MetricsBatchReceived> context)
    {
        // Timestamps are judged against when the message was sent, so a backlog
        // drained after an outage is not rejected for having waited in the queue.
        var sentAt = context.SentTime is { } sent ? new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)) : time.GetUtcNow();
        var now = time.GetUtcNow();
        var reference = sentAt < now ? sentAt : now;

        MetricPoint[] points;
        try
        {
            points = context.Message.Points();
        }
        catch (FormatException ex)
        {
            throw new InvalidMetricsMessageException([new MetricError(null, "packed", ex.Message)]);
        }

        var errors = MetricRules.Check(points, reference);
        if (errors.Count > 0)
        {
            throw new InvalidMetricsMessageException(errors);
        }

        // MassTransit stamps every message it sends with an id; a message from
        // elsewhere without one is keyed by its content's first point id.
        var messageId = context.MessageId ?? points[0].Id;
        await storage.StoreAsync(new StorageMessage(messageId, points, DeduplicateIds: context.Message.Packed is null));
    }
}

public sealed class MetricsBatchReceivedConsumerDefinition : ConsumerDefinition<MetricsBatchReceivedConsumer>
{
    public MetricsBatchReceivedConsumerDefinition()
    {
        EndpointName = MessagingTopology.MetricsStorageQueue;
        // Messages in flight are what GroupCommit combines into one write:
        // enough of them that writes grow under load, and few enough that
        // memory stays bounded (each carries at most 1000 metrics).
        ConcurrentMessageLimit = MessagesInFlight;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<MetricsBatchReceivedConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = MessagesInFlight;
        var settings = context.GetRequiredService<IOptions<AggregationOptions>>().Value;

        // Outer: any failure other than an outage (a bug, a broken migration) is
        // retried a few times, then the message goes to metrics-storage_error with
        // its reason; `replay-errors` moves it back once the cause is fixed.
        // Invalid messages go there at once: retrying cannot fix them.
        endpoint.UseMessageRetry(retry =>
        {
            retry.Exponential(settings.RetryLimit, settings.RetryMinInterval, settings.RetryMaxInterval, settings.RetryMinInterval);
            retry.Ignore<InvalidMetricsMessageException>();
        });

        // Inner: an unreachable database is retried with backoff for as long as
        // the outage lasts, so a database restart sends nothing to the error
        // queue. The message stays unacknowledged in RabbitMQ meanwhile: if this
        // instance dies, the broker hands it to another. Delayed redelivery
        // would free the consumer, but needs the broker's delayed-exchange
        // plugin or a scheduler; in-memory retry needs neither.
        endpoint.UseMessageRetry(retry =>
        {
            retry.Exponential(OutageRetryLimit, TimeSpan.FromMilliseconds(200), settings.OutageRetryMaxInterval, TimeSpan.FromMilliseconds(200));
            retry.Handle<Exception>(DatabaseOutage.IsOutage);
        });
    }

    // At the default 10 s cap, about six days of attempts.
    private const int OutageRetryLimit = 50_000;

    // Messages held while GroupCommit gathers them: enough small messages (a
    // few dozen points each, as single-metric traffic forms them) to fill
    // writes while each waits out the linger, and at most 50k points of full
    // 1000-point messages in memory: two full 20k-point writes and the next
    // one gathering. 100 measured the same throughput; halving it halves the
    // points a backlog can hold in memory (docs/benchmarks.md, Memory).
    public const int MessagesInFlight = 50;
}

public sealed class InvalidMetricsMessageException(IReadOnlyList<MetricError> errors)
    : Exception("Invalid metrics: " + string.Join("; ", errors.Take(20)) + (errors.Count > 20 ? $"; and {errors.Count - 20} more" : ""))
{
    public IReadOnlyList<MetricError> Errors { get; } = errors;
}
