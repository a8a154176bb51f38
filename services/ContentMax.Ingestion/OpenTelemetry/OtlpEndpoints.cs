using System.Globalization;
using System.Text;
using ContentMax.Ingestion.OpenTelemetry;
using ContentMax.Ingestion.OpenTelemetry.Proto.Collector.Metrics.V1;
using ContentMax.Ingestion.OpenTelemetry.Proto.Rpc;
using ContentMax.Ingestion.Protocols;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.RateLimiting;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion;

// OTLP/HTTP metrics: POST /v1/metrics, as the OpenTelemetry SDKs and the
// Collector's otlphttp exporter send them (protobuf or JSON, optionally gzip).
// Answers as the OTLP/HTTP specification asks: 200 with an
// ExportMetricsServiceResponse (partial_success when data points were
// rejected) only once the broker confirmed every accepted point; errors carry
// a google.rpc.Status in the request's encoding, and 429/503 a Retry-After
// that the exporters honour before they retry.
public static class OtlpEndpoints
{
    private const string ProtobufType = "application/x-protobuf";
    private const string JsonType = "application/json";

    // gRPC status codes, as google.rpc.Status carries them.
    private const int InvalidArgument = 3;
    private const int ResourceExhausted = 8;
    private const int Unavailable = 14;

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static IEndpointRouteBuilder MapOtlpIngestion(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("OpenTelemetry");

        group.MapPost("/metrics", ExportAsync)
            .RequireAuthorization(ApiRoles.Ingest)
            // Browsers send OTLP too (opentelemetry-js); the same origins as /api/metrics.
            .RequireCors(IngestCorsSetup.PolicyName)
            .WithName("ExportOtlpMetrics")
            .WithSummary("OTLP/HTTP metrics export (application/x-protobuf or application/json, optionally gzip); answers 200 once the broker has the points.")
            .Produces(StatusCodes.Status400BadRequest, contentType: ProtobufType, additionalContentTypes: JsonType)
            .Produces(StatusCodes.Status413PayloadTooLarge, contentType: ProtobufType, additionalContentTypes: JsonType)
            .Produces(StatusCodes.Status429TooManyRequests, contentType: ProtobufType, additionalContentTypes: JsonType)
            .Produces(StatusCodes.Status503ServiceUnavailable, contentType: ProtobufType, additionalContentTypes: JsonType)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        return app;
    }

    internal static async Task<Results<OtlpMessageResult, ProblemHttpResult>> ExportAsync(
        HttpRequest request,
        MetricBatcher batcher,
        IngestionMetrics metrics,
        IOptions<IngestionOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        bool json;
        switch (ProtocolBody.MediaType(request.ContentType))
        {
            case ProtobufType or "application/protobuf":
                json = false;
                break;
            case JsonType:
                json = true;
                break;
            default:
                // Neither encoding is known, so the answer is a problem rather than a Status.
                return TypedResults.Problem(
                    title: "Unsupported media type",
                    detail: "Send OTLP metrics as application/x-protobuf or application/json.",
                    statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var encoding = ProtocolBody.ContentEncoding(request);
        if (encoding is not (null or "gzip"))
        {
            return TypedResults.Problem(
                title: "Unsupported content encoding",
                detail: $"Content-Encoding '{encoding}' is not supported: send the body uncompressed or gzip-compressed.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var maxBytes = options.Value.MaxBodyBytes;
        var body = await ProtocolBody.ReadAsync(request, maxBytes, cancellationToken);
        if (body is null)
        {
            return StatusResult(StatusCodes.Status413PayloadTooLarge, ResourceExhausted,
                string.Create(CultureInfo.InvariantCulture, $"The body may be at most {maxBytes} bytes as sent. Export smaller batches."), json);
        }

        if (encoding == "gzip")
        {
            try
            {
                body = ProtocolBody.Gunzip(body);
            }
            catch (InvalidDataException)
            {
                return StatusResult(StatusCodes.Status400BadRequest, InvalidArgument, "The body is not valid gzip.", json);
            }

            if (body is null)
            {
                return StatusResult(StatusCodes.Status413PayloadTooLarge, ResourceExhausted,
                    string.Create(CultureInfo.InvariantCulture, $"The body may be at most {ProtocolBody.MaxDecompressedBytes} bytes decompressed. Export smaller batches."), json);
            }
        }

        ExportMetricsServiceRequest export;
        try
        {
            export = Decode(body, json);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException or ArgumentException or OverflowException)
        {
            return StatusResult(StatusCodes.Status400BadRequest, InvalidArgument,
                $"The body is not a valid OTLP ExportMetricsServiceRequest ({(json ? "JSON" : "protobuf")}): {ex.Message}", json);
        }

        var report = new MappingReport();
        var points = OtlpMetricsMapper.Map(export, time.GetUtcNow(), report);
        metrics.Otlp.Record(report);

        if (points.Count > 0)
        {
            // The key's metrics-per-second limit; its requests-per-second limit was checked before the body was read.
            if (await request.HttpContext.CheckRateLimitAsync(RateLimitKind.Metrics, points.Count) is { } limited)
            {
                return StatusResult(StatusCodes.Status429TooManyRequests, ResourceExhausted,
                    limited.ProblemDetails.Detail ?? "Too many metrics.", json);
            }

            if (request.HttpContext.RequestServices.GetRequiredService<CardinalityGuard>().Check(request.HttpContext, points) is { } tooMany)
            {
                return StatusResult(StatusCodes.Status429TooManyRequests, ResourceExhausted, tooMany.ProblemDetails.Detail!, json);
            }

            try
            {
                await batcher.PublishAllAsync(points, Sources.Otlp);
            }
            catch (IngestionUnavailableException ex)
            {
                request.HttpContext.Response.SetRetryAfter(ex.RetryAfter);
                return StatusResult(StatusCodes.Status503ServiceUnavailable, Unavailable,
                    $"{ex.Message} Retry after the Retry-After delay.", json);
            }
        }

        var response = new ExportMetricsServiceResponse();
        if (report.RejectedCount > 0 || report.DroppedTagCount > 0)
        {
            // With nothing rejected, partial_success carries only a warning (the dropped attributes).
            response.PartialSuccess = new ExportMetricsPartialSuccess
            {
                RejectedDataPoints = report.RejectedCount,
                ErrorMessage = report.Describe("data points", "attributes"),
            };
        }

        return new OtlpMessageResult(StatusCodes.Status200OK, response, json);
    }

    // Throws InvalidProtocolBufferException, InvalidJsonException or
    // FormatException for a body that is not an export request.
    public static ExportMetricsServiceRequest Decode(byte[] body, bool json) =>
        json
            ? Parser.Parse<ExportMetricsServiceRequest>(Encoding.UTF8.GetString(body))
            : ExportMetricsServiceRequest.Parser.ParseFrom(body);

    private static OtlpMessageResult StatusResult(int httpStatus, int code, string message, bool json) =>
        new(httpStatus, new Status { Code = code, Message = message }, json);
}

// An OTLP message as the answer, in the request's encoding.
public sealed class OtlpMessageResult(int statusCode, IMessage message, bool json) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => statusCode;

    public IMessage Message => message;

    public bool Json => json;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var body = json ? Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(message)) : message.ToByteArray();
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = json ? "application/json" : "application/x-protobuf";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(void), ["application/x-protobuf", "application/json"]));
}
