using System.Net;
using System.Text.Json;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using ContentMax.ServiceDefaults.Resilience;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Registry;

namespace ContentMax.Aggregation.Forwarding;

// Drains the Postgres outbox to Datadog (series and distribution points, by
// each metric's kind: see DatadogPayload and DatadogMapping). Rows are claimed
// with a lease (Datadog:Lease) in a statement of their own, so no transaction
// is held across HTTP calls; replicas share the work, and a row whose
// forwarder died is claimed again once its lease runs out. Rows are deleted
// once every body built from them was accepted.
// - 5xx answers and timeouts are retried with backoff, 429 waits for the
//   rate-limit reset, until the lease is nearly over (the datadog-intake
//   pipeline in ContentMaxResilience); then the rows are released for the next round.
// - 401/403 (a wrong or revoked key) pauses forwarding for AuthFailurePause and
//   keeps the rows; the failures feed the shipped "Datadog forwarding failing"
//   alert. Rows older than Datadog's window are deleted and counted as skipped.
// - 400/413 splits the body's points in halves and sends each, down to the
//   single points Datadog refuses, which are dropped and counted.
// The consumer only appends to the outbox, so Datadog being slow or down never
// slows storage.
public sealed class DatadogForwarder(
    NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    IOptions<DatadogOptions> options,
    TimeProvider time,
    ErrorReporter errors,
    ResiliencePipelineProvider<string> pipelines,
    AggregationMetrics metrics,
    BackgroundLoops loops,
    ILogger<DatadogForwarder> logger) : BackgroundService
{
    public const string HttpClientName = "datadog";
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxFuture = TimeSpan.FromMinutes(10);

    private readonly ResiliencePipeline<HttpResponseMessage> _intake = pipelines.GetPipeline<HttpResponseMessage>(ContentMaxResilience.DatadogIntake);
    private readonly DatadogMapping _mapping = new(options.Value);
    private DateTimeOffset _pausedUntil;
    private DateTimeOffset _nextExpiry;
    private long _skipped;
    private long _failures;
    private long _forwarded;
    private double _lagSeconds;

    public ForwardingStatus Status => new(Interlocked.Read(ref _forwarded), Interlocked.Read(ref _skipped), Interlocked.Read(ref _failures), Volatile.Read(ref _lagSeconds));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogWarning("Datadog forwarding is off: Datadog:ApiKey is not set.");
            return;
        }

        logger.LogInformation("Forwarding metrics to Datadog at {Uri}", options.Value.SeriesUri.GetLeftPart(UriPartial.Authority));
        await BackgroundLoop.RunAsync("datadog-forwarder", async cancellationToken =>
            await ForwardOnceAsync(cancellationToken) ? TimeSpan.Zero : options.Value.PollInterval,
            logger, errors, time, stoppingToken, loops);
    }

    private enum Outcome
    {
        Sent,
        KeyRefused,
        GaveUp,
    }

    // Sends one claimed slice of the outbox; false when there was nothing to send (or forwarding is paused).
    internal async Task<bool> ForwardOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // Expired rows are looked for once a minute, not on every poll: they age by the hour.
        if (time.GetUtcNow() >= _nextExpiry)
        {
            await DeleteExpiredAsync(cancellationToken);
            _nextExpiry = time.GetUtcNow() + TimeSpan.FromMinutes(1);
        }

        if (time.GetUtcNow() < _pausedUntil) return false;

        var ids = new List<long>();
        var points = new List<OutboxPoint>();
        DateTime? oldest = null;
        await using (var claim = dataSource.CreateCommand("""
            UPDATE datadog_outbox SET leased_until = now() + $2::interval
            WHERE id IN (
                SELECT id FROM datadog_outbox WHERE leased_until IS NULL OR leased_until < now()
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, created_at, points::text
            """))
        {
            claim.Parameters.Add(new NpgsqlParameter { Value = settings.BatchesPerRequest });
            claim.Parameters.Add(new NpgsqlParameter { Value = settings.Lease });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
                var created = reader.GetDateTime(1);
                if (oldest is null || created < oldest) oldest = created;
                points.AddRange(JsonSerializer.Deserialize<OutboxPoint[]>(reader.GetString(2)) ?? []);
            }
        }

        if (ids.Count == 0)
        {
            Volatile.Write(ref _lagSeconds, 0);
            return false;
        }

        Volatile.Write(ref _lagSeconds, (time.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(oldest!.Value, DateTimeKind.Utc)).TotalSeconds);
        var fresh = InWindow(points);
        // Sending stops short of the lease's end, so no other replica can take these rows while they are sent.
        var deadline = time.GetUtcNow() + settings.Lease - TimeSpan.FromSeconds(Math.Min(15, settings.Lease.TotalSeconds / 4));
        var outcome = Outcome.Sent;
        foreach (var body in DatadogPayload.Build(fresh, _mapping))
        {
            outcome = await SendSplittingAsync(body, deadline, cancellationToken);
            if (outcome != Outcome.Sent) break;
        }

        if (outcome != Outcome.Sent)
        {
            await ReleaseAsync(ids);
            if (outcome == Outcome.KeyRefused)
            {
                _pausedUntil = time.GetUtcNow() + settings.AuthFailurePause;
                logger.LogError("Datadog refused the API key: forwarding pauses for {Pause}; the points wait in the outbox (up to 1 hour).",
                    Duration.Format(settings.AuthFailurePause));
            }

            return false;
        }

        await using (var delete = dataSource.CreateCommand("DELETE FROM datadog_outbox WHERE id = ANY($1)"))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
            await delete.ExecuteNonQueryAsync(CancellationToken.None);
        }

        metrics.DatadogPointsForwarded.Add(fresh.Count);
        Interlocked.Add(ref _forwarded, fresh.Count);
        return true;
    }

    private async Task ReleaseAsync(List<long> ids)
    {
        await using var release = dataSource.CreateCommand("UPDATE datadog_outbox SET leased_until = NULL WHERE id = ANY($1)");
        release.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        await release.ExecuteNonQueryAsync(CancellationToken.None);
    }

    // Rows older than Datadog accepts (an hour, plus a margin) can never be sent: they go, counted as skipped.
    private async Task DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        await using var expire = dataSource.CreateCommand("""
            WITH gone AS (DELETE FROM datadog_outbox WHERE created_at < now() - $1::interval RETURNING jsonb_array_length(points) AS n)
            SELECT coalesce(sum(n), 0)::bigint FROM gone
            """);
        expire.Parameters.Add(new NpgsqlParameter { Value = Window + TimeSpan.FromMinutes(5) });
        var expired = (long)(await expire.ExecuteScalarAsync(cancellationToken))!;
        if (expired > 0)
        {
            metrics.DatadogPointsSkipped.Add(expired);
            Interlocked.Add(ref _skipped, expired);
            logger.LogWarning("{Count} points waited longer than Datadog accepts and were dropped.", expired);
        }
    }

    private List<OutboxPoint> InWindow(List<OutboxPoint> points)
    {
        var now = time.GetUtcNow();
        var earliest = (now - Window).ToUnixTimeSeconds();
        var latest = (now + MaxFuture).ToUnixTimeSeconds();
        var fresh = points.Where(p => p.T >= earliest && p.T <= latest).ToList();
        var skipped = points.Count - fresh.Count;
        if (skipped > 0)
        {
            metrics.DatadogPointsSkipped.Add(skipped);
            Interlocked.Add(ref _skipped, skipped);
        }

        return fresh;
    }

    // A body Datadog calls malformed or too large is split in two and each half
    // sent; a single point it still refuses is dropped and counted.
    private async Task<Outcome> SendSplittingAsync(DatadogBody body, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var (outcome, status) = await SendAsync(body, deadline, cancellationToken);
        if (status is not (HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)) return outcome;

        if (body.Points.Count <= 1)
        {
            metrics.DatadogPointsSkipped.Add(body.Points.Count);
            Interlocked.Add(ref _skipped, body.Points.Count);
            logger.LogWarning("Datadog refused a point of {Metric} ({Status}); it is dropped.", body.Points.FirstOrDefault()?.M, (int)status);
            return Outcome.Sent;
        }

        var half = body.Points.Count / 2;
        foreach (var part in new[] { body.Points.Take(half), body.Points.Skip(half) })
        {
            foreach (var smaller in DatadogPayload.Build(part, _mapping))
            {
                var result = await SendSplittingAsync(smaller, deadline, cancellationToken);
                if (result != Outcome.Sent) return result;
            }
        }

        return Outcome.Sent;
    }

    // Sends through the datadog-intake pipeline (ContentMaxResilience), which
    // retries 5xx, 408, 429 and network errors until the deadline. The status
    // says which 4xx it was when it is one the caller handles (400, 413).
    private async Task<(Outcome, HttpStatusCode?)> SendAsync(DatadogBody body, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var client = httpClients.CreateClient(HttpClientName);
        var uri = new Uri(options.Value.BaseUri, body.Path);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(ContentMaxResilience.Deadline, deadline);
        context.Properties.Set(ContentMaxResilience.OnRetry, retry =>
        {
            if (retry.Outcome.Result is { } answer) logger.LogWarning("Datadog answered {Status}; retrying in {Wait}.", (int)answer.StatusCode, retry.RetryDelay);
            else logger.LogWarning("Datadog is unreachable ({Error}); retrying in {Wait}.", retry.Outcome.Exception?.GetType().Name, retry.RetryDelay);
            return ValueTask.CompletedTask;
        });
        try
        {
            using var response = await _intake.ExecuteAsync(async attempt =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = DatadogPayload.Content(body.Json, options.Value.Compress) };
                request.Headers.Add("DD-API-KEY", options.Value.ApiKey);
                try
                {
                    var answer = await client.SendAsync(request, attempt.CancellationToken);
                    if (!answer.IsSuccessStatusCode) CountFailure((int)answer.StatusCode);
                    return answer;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !attempt.CancellationToken.IsCancellationRequested)
                {
                    CountFailure("unreachable");
                    throw;
                }
            }, context);

            var status = response.StatusCode;
            if (response.IsSuccessStatusCode) return (Outcome.Sent, null);
            if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) return (Outcome.KeyRefused, status);
            if (status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge) return (Outcome.Sent, status);
            // Still failing when the next wait would run past the deadline.
            if (ContentMaxResilience.IsTransient(Polly.Outcome.FromResult(response), context)) return (Outcome.GaveUp, null);

            logger.LogError("Datadog rejected {Bytes} bytes of points with {Status}; they are dropped.", body.Json.Length, (int)status);
            return (Outcome.Sent, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (Outcome.GaveUp, null);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void CountFailure(object status)
    {
        metrics.DatadogRequestFailures.Add(1, new KeyValuePair<string, object?>("status", status));
        Interlocked.Increment(ref _failures);
    }
}

public sealed record ForwardingStatus(long Forwarded, long Skipped, long Failures, double LagSeconds);
