using System.Buffers;
using System.Globalization;
using ContentMax.Contracts;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion;

public static class MetricIngestionEndpoints
{
    public static IEndpointRouteBuilder MapMetricIngestion(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/metrics").WithTags("Ingestion");

        group.MapPost("/", IngestAsync)
            .RequireAuthorization(ApiRoles.Ingest)
            .RequireCors(IngestCorsSetup.PolicyName)
            .WithName("IngestMetrics")
            // Server requests with a header key take IngestFastLane, and come out the same.
            .WithMetadata(IngestFastLane.Served.Instance)
            // No .Accepts(...): routing would then answer other content types with a bare 415;
            // the handler answers them with a problem that says what to send.
            .WithSummary("Accepts one metric or an array of up to 1000 (application/json or text/plain); answers 202 once the broker has them.")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        return app;
    }

    public sealed record IngestAccepted(int Accepted);

    internal static async Task<Results<IngestAcceptedResult, ValidationProblem, ProblemHttpResult>> IngestAsync(
        HttpRequest request,
        MetricBatcher batcher,
        CardinalityGuard cardinality,
        IOptions<IngestionOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!IsSupportedContentType(request.ContentType))
        {
            return TypedResults.Problem(
                title: "Unsupported media type",
                detail: "Send the metrics as application/json, or as text/plain (what navigator.sendBeacon sends).",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var maxBytes = options.Value.MaxBodyBytes;
        if (request.ContentLength > maxBytes)
        {
            return TooLarge(maxBytes);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxBytes + 1, (int)(request.ContentLength ?? 16 * 1024) + 1));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes) return TooLarge(maxBytes);
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0) break;
                length += read;
                if (length > maxBytes) return TooLarge(maxBytes);
            }

            var parsed = MetricRequestParser.Parse(buffer.AsMemory(0, length), time.GetUtcNow());
            if (!parsed.IsValid)
            {
                return Invalid(parsed);
            }

            // The key's metrics-per-second limit; its requests-per-second limit was checked before the body was read.
            if (await request.HttpContext.CheckRateLimitAsync(RateLimitKind.Metrics, parsed.Points.Length) is { } limited)
            {
                return limited;
            }

            if (cardinality.Check(request.HttpContext, parsed.Points) is { } tooMany)
            {
                return tooMany;
            }

            try
            {
                await batcher.PublishAsync(parsed.Points);
            }
            catch (IngestionUnavailableException ex)
            {
                request.HttpContext.Response.Headers.RetryAfter =
                    ((int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(
                    title: "Service unavailable",
                    detail: $"{ex.Message} Nothing was stored; retry after the Retry-After delay with the same ids.",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return new IngestAcceptedResult(parsed.Points.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ValidationProblem Invalid(MetricParseResult parsed)
    {
        var errors = parsed.Errors
            .GroupBy(e => e.Index is { } i ? (e.Field.Length > 0 ? $"[{i}].{e.Field}" : $"[{i}]") : e.Field)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray());
        var items = parsed.Errors.Where(e => e.Index is not null).Select(e => e.Index).Distinct().Count();
        var detail = items > 0
            ? $"{items} metric(s) are invalid. A batch is all-or-nothing: nothing was stored."
            : "The request body is invalid. Nothing was stored.";
        return TypedResults.ValidationProblem(errors, detail: detail, title: "The metrics are not valid.");
    }

    private static ProblemHttpResult TooLarge(int maxBytes) =>
        TypedResults.Problem(
            title: "Request body too large",
            detail: string.Create(CultureInfo.InvariantCulture, $"The body may be at most {maxBytes} bytes. Split the metrics into smaller batches."),
            statusCode: StatusCodes.Status413PayloadTooLarge);

    private static bool IsSupportedContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase);
    }
}

// 202 {"accepted": N}, written as bytes with a Content-Length: the answer to
// every accepted request, so it skips the JSON serializer and chunked encoding.
public sealed class IngestAcceptedResult(int accepted) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int Accepted { get; } = accepted;

    public int? StatusCode => StatusCodes.Status202Accepted;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var prefix = "{\"accepted\":"u8;
        var body = new byte[prefix.Length + 12];
        prefix.CopyTo(body);
        System.Buffers.Text.Utf8Formatter.TryFormat(Accepted, body.AsSpan(prefix.Length), out var digits);
        var length = prefix.Length + digits + 1;
        body[length - 1] = (byte)'}';
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = length;
        return response.Body.WriteAsync(body, 0, length);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status202Accepted, typeof(MetricIngestionEndpoints.IngestAccepted), ["application/json"]));
}
