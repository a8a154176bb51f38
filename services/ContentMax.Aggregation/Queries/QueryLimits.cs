using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ContentMax.Aggregation.Queries;

// Bounds what metrics queries may cost a replica: at most MaxConcurrentQueries
// run at once (QueryQueueLimit more wait, oldest first), and each is cancelled
// after QueryTimeout (Npgsql then cancels the statement in Postgres). Either
// limit answers 503 with Retry-After and a problem that says which.
public sealed class QueryLimits : IEndpointFilter, IDisposable
{
    private readonly IOptions<AggregationOptions> _options;
    private readonly ConcurrencyLimiter _running;

    public QueryLimits(IOptions<AggregationOptions> options)
    {
        _options = options;
        _running = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.MaxConcurrentQueries,
            QueueLimit = options.Value.QueryQueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var settings = _options.Value;
        using var lease = await _running.AcquireAsync(1, http.RequestAborted);
        if (!lease.IsAcquired)
        {
            return Busy(http, TimeSpan.FromSeconds(1),
                $"More than {settings.MaxConcurrentQueries} metrics queries are running and {settings.QueryQueueLimit} waiting on this replica.");
        }

        var aborted = http.RequestAborted;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(settings.QueryTimeout);
        // Handlers take their CancellationToken from RequestAborted when they are called.
        http.RequestAborted = timeout.Token;
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (timeout.IsCancellationRequested && !aborted.IsCancellationRequested && ex is OperationCanceledException or Npgsql.NpgsqlException)
        {
            return Busy(http, TimeSpan.FromSeconds(5),
                $"The query took longer than {ServiceDefaults.Duration.Format(settings.QueryTimeout)} and was cancelled; ask for a shorter period or one metric.");
        }
        finally
        {
            http.RequestAborted = aborted;
        }
    }

    private static IResult Busy(HttpContext http, TimeSpan retryAfter, string detail)
    {
        http.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Query limit reached");
    }

    public void Dispose() => _running.Dispose();
}
