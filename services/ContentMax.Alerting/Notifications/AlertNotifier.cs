using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Registry;
using Polly.Timeout;

namespace ContentMax.Alerting.Notifications;

// Sends the queued notifications (alert_notifications) to their webhook
// receivers. Any replica may do it: each row is claimed with SKIP LOCKED, so
// it is sent once at a time. A failure is retried with exponential backoff (1 s
// doubling to 5 min) up to DeliveryAttempts times, and every failure is
// recorded on the row; receivers see the same alert again only on a retry of a
// delivery that may have failed half-way.
public sealed class AlertNotifier(
    NpgsqlDataSource dataSource,
    IOptionsMonitor<AlertingOptions> options,
    TimeProvider time,
    IMeterFactory meterFactory,
    ErrorReporter errors,
    ILogger<AlertNotifier> logger,
    ResiliencePipelineProvider<string>? pipelines = null,
    BackgroundLoops? loops = null) : BackgroundService
{
    private const int BatchSize = 20;
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromMinutes(5);

    // Receiver URLs are secrets and their targets are the operator's choice:
    // no redirects, no metadata addresses, and nothing of the URL in logs,
    // spans or breadcrumbs (see SecretDestinations).
    private readonly HttpClient _webhooks = SecretDestinations.CreateClient(() => options.CurrentValue.AllowPrivateReceivers);

    private readonly Counter<long> _deliveries = new AlertingMetrics(meterFactory).Notifications;

    // One attempt, bounded by Alerting:DeliveryTimeout, through the webhook-attempt pipeline
    // (ContentMaxResilience) so that timeouts show in Polly's telemetry like every other
    // outbound call's. It does not retry in memory: the retry is the row's next_attempt_at
    // above, which survives a restart and is shared by the replicas.
    private readonly ResiliencePipeline _attempt = pipelines?.GetPipeline(ContentMaxResilience.WebhookAttempt)
        ?? new ResiliencePipelineBuilder { TimeProvider = time }.AddWebhookAttempt().Build();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CurrentValue.Enabled) return;
        // Settings are read inside each round: a bad reload pauses deliveries, it does not stop the host.
        await BackgroundLoop.RunAsync("alert-notifier", async cancellationToken =>
            await DeliverDueAsync(cancellationToken) < BatchSize ? options.CurrentValue.DeliveryPollInterval : TimeSpan.Zero,
            logger, errors, time, stoppingToken, loops);
    }

    // Sends one batch of due notifications; returns how many were attempted.
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<(long Id, string Receiver, int Attempts, AlertSnapshot Alert)>();
        await using (var claim = new NpgsqlCommand("""
            SELECT id, receiver, attempts, alert::text FROM alert_notifications
            WHERE status = 'pending' AND next_attempt_at <= $1
            ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow().UtcDateTime });
            claim.Parameters.Add(new NpgsqlParameter { Value = BatchSize });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2),
                    JsonSerializer.Deserialize<AlertSnapshot>(reader.GetString(3), AlertingJson.Options)!));
            }
        }

        if (due.Count == 0) return 0;

        // Sent side by side, so one slow receiver delays the batch by one timeout, not one per row.
        var outcomes = await Task.WhenAll(due.Select(async d =>
        {
            var receiver = settings.Receivers.FirstOrDefault(r => r.Name == d.Receiver);
            return (Receiver: receiver, Error: receiver is null ? "the receiver is no longer configured" : await SendAsync(receiver, d.Alert, cancellationToken));
        }));

        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var ((id, receiverName, attempts, alert), (receiver, error)) in due.Zip(outcomes))
        {
            var attempt = attempts + 1;
            _deliveries.Add(1, new KeyValuePair<string, object?>("receiver", receiverName), new KeyValuePair<string, object?>("result", error is null ? "delivered" : "failed"));

            var update = new NpgsqlBatchCommand("""
                UPDATE alert_notifications SET attempts = $2, last_error = coalesce($3, last_error), status = $4,
                    delivered_at = CASE WHEN $4 = 'delivered' THEN now() END, next_attempt_at = $5
                WHERE id = $1
                """);
            var giveUp = receiver is null || attempt >= settings.DeliveryAttempts;
            var status = error is null ? "delivered" : giveUp ? "failed" : "pending";
            var backoff = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, attempt - 1), LongestBackoff.TotalSeconds));
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            update.Parameters.Add(new NpgsqlParameter { Value = attempt });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter { Value = status });
            update.Parameters.Add(new NpgsqlParameter { Value = (time.GetUtcNow() + backoff).UtcDateTime });
            batch.BatchCommands.Add(update);

            if (error is not null)
            {
                logger.LogWarning("Notification {Id} for {Rule} to receiver {Receiver} failed (attempt {Attempt}, {Status}): {Error}",
                    id, alert.RuleId, receiverName, attempt, status, error);
            }
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return due.Count;
    }

    // Null on success, or a short reason. The receiver's URL is a secret and
    // never appears in the reason.
    private async Task<string?> SendAsync(ReceiverOptions receiver, AlertSnapshot alert, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, NotificationFormats.Target(receiver))
        {
            Content = JsonContent.Create(NotificationFormats.Render(receiver.Format, alert, receiver.Name)),
        };
        request.Options.Set(SecretDestinations.SecretUrl, true);
        foreach (var (name, value) in receiver.Headers) request.Headers.TryAddWithoutValidation(name, value);

        var attempt = ResilienceContextPool.Shared.Get(cancellationToken);
        attempt.Properties.Set(ContentMaxResilience.AttemptTimeout, options.CurrentValue.DeliveryTimeout);
        try
        {
            using var response = await _attempt.ExecuteAsync(
                static (context, state) => new ValueTask<HttpResponseMessage>(state.Webhooks.SendAsync(state.Request, context.CancellationToken)),
                attempt, (Webhooks: _webhooks, Request: request));
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? null
                : status is >= 300 and < 400 ? $"HTTP {status}: redirects are not followed"
                : $"HTTP {status}";
        }
        catch (Exception ex) when (ex is TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return "timed out";
        }
        catch (HttpRequestException ex) when (ex.InnerException is RefusedDestinationException refused)
        {
            return refused.Message + " (Alerting:AllowPrivateReceivers allows loopback and private networks)";
        }
        catch (HttpRequestException ex)
        {
            return ex.HttpRequestError == HttpRequestError.Unknown ? "request failed" : ex.HttpRequestError.ToString();
        }
        finally
        {
            ResilienceContextPool.Shared.Return(attempt);
        }
    }
}
