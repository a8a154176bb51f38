using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentMax.Aggregation.Forwarding;

// Drains the Postgres outbox to Datadog's POST /api/v2/series. Rows are taken
// with FOR UPDATE SKIP LOCKED, so replicas share the work without sending a
// row twice, and deleted only once every body built from them was accepted.
// 5xx answers and timeouts are retried in place with backoff, 429 waits for
// the rate-limit reset, and points that fall out of Datadog's window (older
// than an hour, or more than 10 minutes ahead) are skipped and counted. The
// consumer only appends to the outbox, so Datadog being slow or down never
// slows storage.
public sealed class DatadogForwarder(
    NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    IOptions<DatadogOptions> options,
    TimeProvider time,
    ErrorReporter errors,
    ILogger<DatadogForwarder> logger) : BackgroundService
{
    public const string HttpClientName = "datadog";
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxFuture = TimeSpan.FromMinutes(10);

    private static readonly Meter Meter = new(ContentMaxTelemetry.MeterName);
    private static readonly Counter<long> Forwarded = Meter.CreateCounter<long>("contentmax.datadog.points_forwarded", "{point}");
    private static readonly Counter<long> Skipped = Meter.CreateCounter<long>("contentmax.datadog.points_skipped", "{point}", "Points outside Datadog's accepted time window");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("contentmax.datadog.request_failures", "{request}");

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
            logger, errors, time, stoppingToken);
    }

    // Sends one slice of the outbox; false when it was empty.
    internal async Task<bool> ForwardOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = new List<long>();
        var points = new List<OutboxPoint>();
        DateTime? oldest = null;
        await using (var take = new NpgsqlCommand(
            "SELECT id, created_at, points::text FROM datadog_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", connection, transaction))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = options.Value.BatchesPerRequest });
            await using var reader = await take.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
                oldest ??= reader.GetDateTime(1);
                points.AddRange(JsonSerializer.Deserialize<OutboxPoint[]>(reader.GetString(2)) ?? []);
            }
        }

        if (ids.Count == 0)
        {
            Volatile.Write(ref _lagSeconds, 0);
            return false;
        }

        Volatile.Write(ref _lagSeconds, (time.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(oldest!.Value, DateTimeKind.Utc)).TotalSeconds);
        var tags = new[] { $"env:{options.Value.Environment ?? "development"}", "service:contentmax" };
        var fresh = InWindow(points);
        var sent = fresh.Count;
        foreach (var body in DatadogPayload.Build(fresh, tags))
        {
            if (!await SendAsync(body, cancellationToken))
            {
                return true; // Cancelled: the rows stay for the next run.
            }
        }

        await using (var delete = new NpgsqlCommand("DELETE FROM datadog_outbox WHERE id = ANY($1)", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        Forwarded.Add(sent);
        Interlocked.Add(ref _forwarded, sent);
        return true;
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
            Skipped.Add(skipped);
            Interlocked.Add(ref _skipped, skipped);
        }

        return fresh;
    }

    // Retries until Datadog accepts the body, or gives up on bodies it rejects
    // as malformed (4xx other than 408/429), which retrying cannot fix.
    private async Task<bool> SendAsync(byte[] body, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        var client = httpClients.CreateClient(HttpClientName);
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.SeriesUri) { Content = Content(body) };
            request.Headers.Add("DD-API-KEY", options.Value.ApiKey);
            TimeSpan wait;
            try
            {
                using var response = await client.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode) return true;

                Failures.Add(1, new KeyValuePair<string, object?>("status", (int)response.StatusCode));
                Interlocked.Increment(ref _failures);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    wait = RateLimitReset(response) ?? backoff;
                }
                else if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout)
                {
                    wait = backoff;
                }
                else
                {
                    logger.LogError("Datadog rejected {Bytes} bytes of points with {Status}; they are dropped.", body.Length, (int)response.StatusCode);
                    return true;
                }

                logger.LogWarning("Datadog answered {Status}; retrying in {Wait}.", (int)response.StatusCode, wait);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Failures.Add(1, new KeyValuePair<string, object?>("status", "unreachable"));
                Interlocked.Increment(ref _failures);
                wait = backoff;
                logger.LogWarning("Datadog is unreachable ({Error}); retrying in {Wait}.", ex.GetType().Name, wait);
            }

            await Task.Delay(wait, time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(60).Ticks));
        }

        return false;
    }

    private HttpContent Content(byte[] body)
    {
        if (!options.Value.Compress)
        {
            var plain = new ByteArrayContent(body);
            plain.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return plain;
        }

        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }

        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private static TimeSpan? RateLimitReset(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-RateLimit-Reset", out var values) && int.TryParse(values.FirstOrDefault(), out var seconds)
            ? TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 300))
            : response.Headers.RetryAfter?.Delta;
}

public sealed record ForwardingStatus(long Forwarded, long Skipped, long Failures, double LagSeconds);
