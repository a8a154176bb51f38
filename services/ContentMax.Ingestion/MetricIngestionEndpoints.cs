using System.Buffers;
using System.Globalization;
using System.Text;
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
        KeyRateLimiter limiter,
        IOptions<IngestionOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var user = request.HttpContext.User;
        var admission = await AdmitAsync(
            request, user.FindFirst(ApiKeyClaims.KeyName)?.Value, user.FindFirst(ApiKeyClaims.KeyRole)?.Value ?? "",
            limiter, batcher, cardinality, options.Value, time, cancellationToken);
        if (admission.Answer is { } answer) return answer;
        await admission.Published!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return Settle(request.HttpContext, admission);
    }

    // A request's metrics up to the broker: either the answer to give now (a
    // problem), or the broker's confirmation of the message they joined, to
    // await before answering (Settle). Nothing in it awaits the broker, so a
    // request whose body has arrived (a single metric's always has) completes
    // it without a task of its own; the caller owns the one wait.
    internal readonly record struct Admission(Results<IngestAcceptedResult, ValidationProblem, ProblemHttpResult>? Answer, Task? Published, int Count);

    // keyName and keyRole: the request's API key, whose metric limit and
    // cardinality are counted (none when keyName is null).
    internal static async ValueTask<Admission> AdmitAsync(
        HttpRequest request,
        string? keyName,
        string keyRole,
        KeyRateLimiter limiter,
        MetricBatcher batcher,
        CardinalityGuard cardinality,
        IngestionOptions options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!IsSupportedContentType(request.ContentType))
        {
            return Answer(TypedResults.Problem(
                title: "Unsupported media type",
                detail: "Send the metrics as application/json, or as text/plain (what navigator.sendBeacon sends).",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        var maxBytes = options.MaxBodyBytes;
        if (request.ContentLength > maxBytes)
        {
            return Answer(TooLarge(maxBytes));
        }

        MetricParseResult parsed;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxBytes + 1, (int)(request.ContentLength ?? 16 * 1024) + 1));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes) return Answer(TooLarge(maxBytes));
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0) break;
                length += read;
                if (length > maxBytes) return Answer(TooLarge(maxBytes));
            }

            parsed = MetricRequestParser.Parse(buffer.AsMemory(0, length), time.GetUtcNow());
        }
        finally
        {
            // Back before the broker wait: hundreds of requests wait at once, and
            // buffers they held would empty the pool.
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (!parsed.IsValid)
        {
            return Answer(Invalid(parsed));
        }

        // The key's metrics-per-second limit; its requests-per-second limit was checked before the body was read.
        if (keyName is not null
            && await limiter.CheckAsync(request.HttpContext, keyName, keyRole, RateLimitKind.Metrics, parsed.Points.Length) is { } limited)
        {
            return Answer(limited);
        }

        if (cardinality.Check(request.HttpContext, keyName, parsed.Points) is { } tooMany)
        {
            return Answer(tooMany);
        }

        try
        {
            return new Admission(null, batcher.PublishAsync(parsed.Points), parsed.Points.Length);
        }
        catch (IngestionUnavailableException ex)
        {
            return Answer(Unavailable(request.HttpContext, ex));
        }
    }

    // After the broker wait (awaited without throwing): the 202 once the broker
    // has the metrics, the 503 when it would not take them; any other failure
    // is rethrown for the exception handler.
    internal static Results<IngestAcceptedResult, ValidationProblem, ProblemHttpResult> Settle(HttpContext context, Admission admission)
    {
        var published = admission.Published!;
        if (published.Exception?.InnerException is IngestionUnavailableException unavailable)
        {
            return Unavailable(context, unavailable);
        }

        published.GetAwaiter().GetResult();
        return IngestAcceptedResult.For(admission.Count);
    }

    private static ProblemHttpResult Unavailable(HttpContext context, IngestionUnavailableException ex)
    {
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            title: "Service unavailable",
            detail: $"{ex.Message} Nothing was stored; retry after the Retry-After delay with the same ids.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static Admission Answer(Results<IngestAcceptedResult, ValidationProblem, ProblemHttpResult> answer) => new(answer, null, 0);

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
        var mediaType = contentType.AsSpan();
        if (mediaType.IndexOf(';') is var end and >= 0) mediaType = mediaType[..end];
        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase);
    }
}

// 202 {"accepted": N}, written as bytes with a Content-Length: the answer to
// every accepted request, so it skips the JSON serializer and chunked encoding.
// One instance per count, its body built once (For).
public sealed class IngestAcceptedResult : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    private static readonly IngestAcceptedResult?[] ByCount = new IngestAcceptedResult?[MetricRules.MaxBatchSize + 1];

    private readonly byte[] _body;

    private IngestAcceptedResult(int accepted)
    {
        Accepted = accepted;
        _body = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"accepted\":{accepted}}}"));
    }

    public static IngestAcceptedResult For(int accepted) =>
        (uint)accepted < (uint)ByCount.Length
            ? ByCount[accepted] ??= new IngestAcceptedResult(accepted)
            : new IngestAcceptedResult(accepted);

    public int Accepted { get; }

    // The body's bytes, for a server that writes the answer itself (IngestConnectionLane).
    internal ReadOnlySpan<byte> Body => _body;

    public int? StatusCode => StatusCodes.Status202Accepted;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = _body.Length;
        return response.Body.WriteAsync(_body, 0, _body.Length);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status202Accepted, typeof(MetricIngestionEndpoints.IngestAccepted), ["application/json"]));
}
