using System.Globalization;
using ContentMax.Ingestion.Prometheus;
using ContentMax.Ingestion.Prometheus.Proto;
using ContentMax.Ingestion.Protocols;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.RateLimiting;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Snappier;

namespace ContentMax.Ingestion;

// Prometheus remote write 1.0: POST /api/v1/write, a snappy-compressed
// (block format) protobuf prometheus.WriteRequest. Prometheus retries 5xx and
// (when configured) 429 with backoff, and drops a batch answered with another
// 4xx, which is right for a body that cannot be decoded. So: 204 once the
// broker confirmed every accepted sample; 400 for garbage; 429/503 with
// Retry-After while the key is over its limit or the broker is unavailable.
public static class RemoteWriteEndpoints
{
    public static IEndpointRouteBuilder MapPrometheusRemoteWrite(this IEndpointRouteBuilder app)
    {
        // Metadata arrives in requests of its own; this instance remembers it between them.
        var families = new PrometheusFamilies();
        var group = app.MapGroup("/api/v1").WithTags("Prometheus");

        group.MapPost("/write", (HttpRequest request, MetricBatcher batcher, IngestionMetrics metrics, IOptions<IngestionOptions> options, TimeProvider time,
                CancellationToken cancellationToken) => WriteAsync(request, batcher, metrics, options, time, families, cancellationToken))
            .RequireAuthorization(ApiRoles.Ingest)
            .WithName("PrometheusRemoteWrite")
            .WithSummary("Prometheus remote write 1.0 (snappy-compressed prometheus.WriteRequest); answers 204 once the broker has the samples.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return app;
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> WriteAsync(
        HttpRequest request,
        MetricBatcher batcher,
        IngestionMetrics metrics,
        IOptions<IngestionOptions> options,
        TimeProvider time,
        PrometheusFamilies families,
        CancellationToken cancellationToken)
    {
        if (UnsupportedFormat(request) is { } unsupported)
        {
            return TypedResults.Problem(title: "Unsupported media type", detail: unsupported, statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var maxBytes = options.Value.MaxBodyBytes;
        var body = await ProtocolBody.ReadAsync(request, maxBytes, cancellationToken);
        if (body is null)
        {
            return TooLarge(string.Create(CultureInfo.InvariantCulture,
                $"The body may be at most {maxBytes} bytes as sent. Lower queue_config.max_samples_per_send."));
        }

        WriteRequest write;
        try
        {
            if (Decode(body) is not { } decoded)
            {
                return TooLarge(string.Create(CultureInfo.InvariantCulture,
                    $"The body may be at most {ProtocolBody.MaxDecompressedBytes} bytes decompressed. Lower queue_config.max_samples_per_send."));
            }

            write = decoded;
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidProtocolBufferException)
        {
            return TypedResults.Problem(
                title: "Invalid remote write body",
                detail: $"The body is not a snappy-compressed prometheus.WriteRequest: {ex.Message}",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var report = new MappingReport();
        var points = RemoteWriteMapper.Map(write, families, time.GetUtcNow(), report);
        metrics.Prometheus.Record(report);

        if (points.Count > 0)
        {
            // The key's metrics-per-second limit; its requests-per-second limit was checked before the body was read.
            if (await request.HttpContext.CheckRateLimitAsync(RateLimitKind.Metrics, points.Count) is { } limited)
            {
                return limited;
            }

            if (request.HttpContext.RequestServices.GetRequiredService<CardinalityGuard>().Check(request.HttpContext, points) is { } tooMany)
            {
                return tooMany;
            }

            try
            {
                await batcher.PublishAllAsync(points, Sources.Prometheus);
            }
            catch (IngestionUnavailableException ex)
            {
                request.HttpContext.Response.SetRetryAfter(ex.RetryAfter);
                return TypedResults.Problem(
                    title: "Service unavailable",
                    detail: $"{ex.Message} Prometheus retries this batch.",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }

        // Invalid samples among valid ones are not an error Prometheus could act
        // on (it would drop the whole batch); they are counted on the
        // contentmax.ingestion.prometheus.* counters instead.
        return TypedResults.NoContent();
    }

    // The request, or null when it decompresses to more than the cap. Throws
    // InvalidDataException (not snappy) or InvalidProtocolBufferException.
    public static WriteRequest? Decode(byte[] body)
    {
        var length = Snappy.GetUncompressedLength(body);
        if (length > ProtocolBody.MaxDecompressedBytes) return null;
        var uncompressed = new byte[length];
        var written = Snappy.Decompress(body, uncompressed);
        return WriteRequest.Parser.ParseFrom(uncompressed.AsSpan(0, written));
    }

    // Why the request is not remote write 1.0, or null when it is.
    private static string? UnsupportedFormat(HttpRequest request)
    {
        if (ProtocolBody.MediaType(request.ContentType) is { } mediaType)
        {
            if (mediaType != "application/x-protobuf") return "Send remote write bodies as application/x-protobuf.";
            if (ProtoParameter(request.ContentType!) is { } proto && proto != "prometheus.WriteRequest")
            {
                return $"Only remote write 1.0 (prometheus.WriteRequest) is supported, not {proto}: set protobuf_message: prometheus.WriteRequest.";
            }
        }

        // Remote write bodies are always snappy-compressed; a missing header is taken to mean that.
        var encoding = ProtocolBody.ContentEncoding(request);
        return encoding is null or "snappy" ? null : $"Content-Encoding '{encoding}' is not supported: remote write bodies are snappy-compressed.";
    }

    private static string? ProtoParameter(string contentType)
    {
        foreach (var parameter in contentType.Split(';').Skip(1))
        {
            var pair = parameter.Split('=', 2);
            if (pair.Length == 2 && pair[0].Trim().Equals("proto", StringComparison.OrdinalIgnoreCase)) return pair[1].Trim().Trim('"');
        }

        return null;
    }

    private static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(title: "Request body too large", detail: detail, statusCode: StatusCodes.Status413PayloadTooLarge);
}
