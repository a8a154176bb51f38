using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ContentMax.ReplayErrors;

// Moves faulted messages back to the queue they failed in. Each message is
// republished with publisher confirms and only then removed from the error
// queue, so a crash part-way can duplicate a message but never lose one (and
// storing metrics is idempotent by id, so a duplicate stores nothing twice).
// Only the messages present when the run starts are taken, so one that fails
// again at once is not replayed in a loop. MassTransit's fault headers are
// dropped; the replay count goes into contentmax-replay-count.
public static class ErrorQueueReplayer
{
    public const string ReplayCountHeader = "contentmax-replay-count";

    public static async Task<ReplayResult> RunAsync(ReplayArguments arguments, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = arguments.Broker, ClientProvidedName = "contentmax-replay-errors" };
        IConnection connection;
        try
        {
            connection = await factory.CreateConnectionAsync(cancellationToken);
        }
        catch (BrokerUnreachableException ex)
        {
            throw new ReplayException($"Cannot connect to RabbitMQ at {arguments.Broker.Host}:{arguments.Broker.Port}: {ex.InnerException?.Message ?? ex.Message}");
        }

        await using (connection)
        {
            var waiting = await MessageCountAsync(connection, arguments.ErrorQueue, cancellationToken);
            if (waiting is null)
            {
                return new ReplayResult(0, 0, []);
            }

            if (await MessageCountAsync(connection, arguments.Queue, cancellationToken) is null)
            {
                throw new ReplayException($"The queue {arguments.Queue} does not exist; start the aggregation service once to create it.");
            }

            await using var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
            var toTake = Math.Min(waiting.Value, arguments.Limit ?? int.MaxValue);
            var replayed = 0;
            var skipped = 0;
            var reasons = new Dictionary<string, int>(StringComparer.Ordinal);

            // Messages left alone (dry run, other reasons) stay unacknowledged until
            // the channel closes, which returns them to the error queue in order.
            for (var taken = 0; taken < waiting.Value && replayed < toTake; taken++)
            {
                var message = await channel.BasicGetAsync(arguments.ErrorQueue, autoAck: false, cancellationToken);
                if (message is null) break;

                var reason = FaultReason(message.BasicProperties.Headers);
                if (arguments.DryRun || (arguments.Reason is { } wanted && !reason.Contains(wanted, StringComparison.OrdinalIgnoreCase)))
                {
                    skipped++;
                    if (arguments.DryRun) Count(reasons, reason);
                    continue;
                }

                var properties = new BasicProperties(message.BasicProperties) { Headers = ReplayHeaders(message.BasicProperties.Headers) };
                await channel.BasicPublishAsync("", arguments.Queue, mandatory: true, properties, message.Body, cancellationToken);
                await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
                replayed++;
                Count(reasons, reason);
            }

            return new ReplayResult(replayed, skipped, reasons);
        }
    }

    // The queue's message count, or null when it does not exist.
    private static async Task<uint?> MessageCountAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    private static Dictionary<string, object?> ReplayHeaders(IDictionary<string, object?>? headers)
    {
        var kept = new Dictionary<string, object?>(StringComparer.Ordinal);
        var previous = 0L;
        foreach (var (name, value) in headers ?? new Dictionary<string, object?>())
        {
            if (name == ReplayCountHeader)
            {
                previous = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (!name.StartsWith("MT-Fault-", StringComparison.Ordinal) && !name.StartsWith("MT-Host-", StringComparison.Ordinal) && name != "MT-Reason")
            {
                kept[name] = value;
            }
        }

        kept[ReplayCountHeader] = previous + 1;
        return kept;
    }

    private static string FaultReason(IDictionary<string, object?>? headers) =>
        headers?.TryGetValue("MT-Fault-Message", out var value) == true && value is byte[] bytes
            ? Encoding.UTF8.GetString(bytes)
            : "(no reason recorded)";

    private static void Count(Dictionary<string, int> reasons, string reason)
    {
        var key = reason.Length <= 200 ? reason : reason[..200] + "…";
        reasons[key] = reasons.GetValueOrDefault(key) + 1;
    }
}

public sealed record ReplayResult(int Replayed, int LeftInErrorQueue, Dictionary<string, int> Reasons)
{
    public string Describe(ReplayArguments arguments)
    {
        var text = new StringBuilder();
        text.Append(arguments.DryRun
            ? $"Dry run: {LeftInErrorQueue} message(s) in {arguments.ErrorQueue} would be replayed to {arguments.Queue}; nothing was moved."
            : $"Replayed {Replayed} message(s) from {arguments.ErrorQueue} to {arguments.Queue}" +
              (LeftInErrorQueue > 0 ? $"; {LeftInErrorQueue} with other reasons left where they were." : "."));
        foreach (var (reason, count) in Reasons.OrderByDescending(r => r.Value))
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\n  {count,6} × {reason}");
        }

        return text.ToString();
    }
}

public sealed class ReplayException(string message) : Exception(message);
