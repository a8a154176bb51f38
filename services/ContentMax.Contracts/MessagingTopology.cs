namespace ContentMax.Contracts;

// Broker names that publishers and consumers must agree on.
public static class MessagingTopology
{
    // The durable queue the aggregation service stores metrics from. Ingestion
    // declares it too and binds it to the message's exchange, so nothing
    // published before the first consumer starts is dropped by an exchange
    // with no queue.
    public const string MetricsStorageQueue = "metrics-storage";
}
