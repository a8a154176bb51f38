using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using ContentMax.Monitoring.Client.AspNetCore;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;
using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ContentMax.Ingestion.ConnectionLane;

// A server's POST of metrics, answered below Kestrel's HTTP layer.
//
// Ingestion's hottest request (tens of thousands a second, one metric each)
// spent about as much CPU in Kestrel's HTTP/1.1 machinery (its parser, the
// HttpContext, hosting's diagnostics) as in its own work. A connection handler
// ahead of Kestrel's HTTP on every endpoint reads each request itself, and
// serves those it can read strictly (IngestRequestHead: the route, a known set
// of headers, the whole body in) whose key has the ingest role. Their
// admission is the endpoint's own code (LaneExchange), so every answer, 429,
// 400, 413, 415 and 503 included, is the one the endpoint gives.
//
// Anything else is handed to Kestrel with nothing consumed, and Kestrel serves
// the rest of that connection: requests it cannot read strictly, other routes
// and protocols, TLS, an unknown key (the invalid-key throttle), a key without
// the ingest role. Kestrel's timeouts apply here too: a connection idle past
// Limits.KeepAliveTimeout is closed, and a request that has not all arrived
// within Limits.RequestHeadersTimeout goes on to Kestrel, which times it out.
// When the server stops, a connection is closed after the answer in progress.
//
// What the pipeline gives a request, the lane gives its requests as well: a
// span for the trace sample (HighVolumeTracing) and for every error, one
// observation in the framework's http.server.request.duration, and one in the
// service's own api_requests and api_response_time (SelfMonitoring).
// Ingestion:ConnectionLane=false turns it off.
public sealed class IngestConnectionLane
{
    public const string Path = "/api/metrics";
    public const string Route = "/api/metrics/";
    private const string SpanName = "POST " + Route;

    // Bodies up to this size are read by the lane; larger ones are Kestrel's.
    public const int MaxBodyBytes = 64 * 1024;

    private readonly IServiceProvider _services;
    private readonly ApiKeyRing _keys;
    private readonly KeyRateLimiter _limiter;
    private readonly MetricBatcher _batcher;
    private readonly CardinalityGuard _cardinality;
    private readonly IngestionOptions _options;
    private readonly TimeProvider _time;
    private readonly HighVolumeTracing _tracing;
    private readonly RequestMetrics? _requestMetrics;
    private readonly ILogger<IngestConnectionLane> _logger;
    private readonly Histogram<double> _duration;
    private readonly TimeSpan _keepAliveTimeout;
    private readonly TimeSpan _requestHeadersTimeout;
    private readonly int _maxBody;

    public IngestConnectionLane(IServiceProvider services)
    {
        _services = services;
        _keys = services.GetRequiredService<ApiKeyRing>();
        _limiter = services.GetRequiredService<KeyRateLimiter>();
        _batcher = services.GetRequiredService<MetricBatcher>();
        _cardinality = services.GetRequiredService<CardinalityGuard>();
        _options = services.GetRequiredService<IOptions<IngestionOptions>>().Value;
        _time = services.GetRequiredService<TimeProvider>();
        _tracing = HighVolumeTracing.From(services.GetRequiredService<IConfiguration>());
        _requestMetrics = services.GetService<RequestMetrics>() is { } requestMetrics && !requestMetrics.Excludes(Path) ? requestMetrics : null;
        _logger = services.GetRequiredService<ILogger<IngestConnectionLane>>();
        _duration = RequestDuration.From(services.GetRequiredService<IMeterFactory>());
        var limits = services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        _keepAliveTimeout = limits.KeepAliveTimeout;
        _requestHeadersTimeout = limits.RequestHeadersTimeout;
        _maxBody = Math.Min(MaxBodyBytes, _options.MaxBodyBytes + 1);
    }

    public async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (await ServeRequestsAsync(connection)) await next(connection);
    }

    // True when the connection goes on to Kestrel, false when the lane is done with it.
    private async Task<bool> ServeRequestsAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var strings = new HeadStrings();
        LaneExchange? exchange = null;
        using var timeout = new CancellationTokenSource();
        using var stopping = connection.Features.Get<IConnectionLifetimeNotificationFeature>() is { } lifetime
            ? lifetime.ConnectionClosedRequested.UnsafeRegister(static reader => ((PipeReader)reader!).CancelPendingRead(), input)
            : default;
        var arriving = false;
        while (true)
        {
            if (!arriving) timeout.CancelAfter(_keepAliveTimeout);
            ReadResult read;
            try
            {
                read = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                // Idle past keep-alive: closed. A request under way: Kestrel's.
                return arriving;
            }

            var buffer = read.Buffer;
            // The server is stopping (the answer in progress has been written), or the client has gone.
            if (read.IsCanceled || (buffer.IsEmpty && read.IsCompleted)) return false;

            var outcome = IngestRequestHead.TryRead(buffer, _maxBody, strings, out var head);
            if (outcome == IngestRequestHead.Outcome.Incomplete && !read.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (!arriving) timeout.CancelAfter(_requestHeadersTimeout);
                arriving = true;
                continue;
            }

            if (outcome != IngestRequestHead.Outcome.Served || _keys.Find(head.Key) is not { } identity || !identity.Roles.Contains(ApiRoles.Ingest))
            {
                input.AdvanceTo(buffer.Start);
                return true;
            }

            arriving = false;
            exchange ??= new LaneExchange(_services);
            if (!await ServeAsync(connection, buffer, head, identity, exchange)) return false;
        }
    }

    // One request, answered; false when the connection is to close after it.
    // Pooled: the broker wait suspends every request, and its state is reused.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ServeAsync(ConnectionContext connection, ReadOnlySequence<byte> buffer, IngestRequestHead head, ApiKeyIdentity identity, LaneExchange exchange)
    {
        var started = Stopwatch.GetTimestamp();
        var activity = _tracing.SamplesRequest() ? StartSpan(head, TimeSpan.Zero) : null;
        var context = exchange.Begin(head, buffer.Slice(head.HeadLength, head.ContentLength), identity, connection.ConnectionClosed);
        var input = connection.Transport.Input;
        var consumed = false;
        IResult? answer = null;
        var close = false;
        try
        {
            // The key's requests-per-second limit, then the endpoint's admission.
            answer = await _limiter.CheckAsync(context, identity.Name, identity.Role, RateLimitKind.Requests, 1);
            if (answer is null)
            {
                var admission = await MetricIngestionEndpoints.AdmitAsync(
                    context.Request, identity.Name, identity.Role, _limiter, _batcher, _cardinality, _options, _time, connection.ConnectionClosed);
                // The body has been read: the buffer may take the next requests while this one waits.
                input.AdvanceTo(buffer.GetPosition(head.Length));
                consumed = true;
                if (admission.Answer is null) await admission.Published!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                answer = (admission.Answer ?? MetricIngestionEndpoints.Settle(context, admission)).Result;
            }
        }
        catch (OperationCanceledException) when (connection.ConnectionClosed.IsCancellationRequested)
        {
            // The client has gone: nobody to answer.
            activity?.Stop();
            return false;
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Serving a POST to {Route} failed.", Route);
            answer = TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError);
            close = true;
        }

        if (!consumed) input.AdvanceTo(buffer.GetPosition(head.Length));

        var output = connection.Transport.Output;
        int status;
        if (answer is IngestAcceptedResult accepted)
        {
            status = StatusCodes.Status202Accepted;
            activity?.SetTag("contentmax.api_key", identity.Name);
            LaneExchange.WriteAccepted(output, accepted);
        }
        else
        {
            // A refusal: its span is exported whether or not the request was in the sample.
            activity ??= StartSpan(head, Stopwatch.GetElapsedTime(started));
            if (activity is not null)
            {
                activity.SetTag("contentmax.api_key", identity.Name);
                HighVolumeTracing.KeepSpan(activity);
            }

            await answer!.ExecuteAsync(context);
            status = context.Response.StatusCode;
            exchange.WriteCaptured(output, context, close);
            exchange.Discard();
        }

        Record(activity, status, Stopwatch.GetElapsedTime(started));
        var flushed = await output.FlushAsync();
        return !close && !flushed.IsCompleted && !flushed.IsCanceled;
    }

    // The request's server span, continuing the client's trace when it sent one;
    // `elapsed` before now is when the request started.
    private static Activity? StartSpan(in IngestRequestHead head, TimeSpan elapsed)
    {
        ActivityContext parent = default;
        if (head.TraceParent is { } traceParent) ActivityContext.TryParse(traceParent, head.TraceState, isRemote: true, out parent);
        var activity = ContentMaxTelemetry.ActivitySource.StartActivity(
            SpanName, ActivityKind.Server, parent, startTime: elapsed == TimeSpan.Zero ? default : DateTimeOffset.UtcNow - elapsed);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("http.request.method", HttpMethods.Post);
            activity.SetTag("url.scheme", "http");
            activity.SetTag("url.path", Path);
            activity.SetTag("http.route", Route);
            activity.SetTag("network.protocol.version", "1.1");
        }

        return activity;
    }

    private void Record(Activity? activity, int status, TimeSpan elapsed)
    {
        _duration.Record(elapsed.TotalSeconds, RequestDuration.Tags(status));
        _requestMetrics?.Record(Route, HttpMethods.Post, status, elapsed);
        if (activity is null) return;
        activity.SetTag("http.response.status_code", RequestDuration.Boxed(status));
        if (status >= StatusCodes.Status500InternalServerError)
        {
            activity.SetTag("error.type", RequestDuration.Boxed(status).ToString());
            activity.SetStatus(ActivityStatusCode.Error);
        }

        activity.Stop();
    }

    // The framework's http.server.request.duration: the same instrument that
    // hosting records Kestrel's requests in (one meter per name from the
    // factory, one instrument per name, unit and description on a meter), so
    // the lane's requests are in the same series as all others.
    internal static class RequestDuration
    {
        public const string MeterName = "Microsoft.AspNetCore.Hosting";
        public const string InstrumentName = "http.server.request.duration";

        private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(s => (object)s)];

        public static Histogram<double> From(IMeterFactory meters) =>
            meters.Create(MeterName).CreateHistogram<double>(InstrumentName, unit: "s", description: "Duration of HTTP server requests.");

        public static object Boxed(int status) => (uint)status < (uint)Statuses.Length ? Statuses[status] : status;

        public static TagList Tags(int status) => new()
        {
            { "url.scheme", "http" },
            { "http.request.method", HttpMethods.Post },
            { "network.protocol.version", "1.1" },
            { "http.route", Route },
            { "http.response.status_code", Boxed(status) },
        };
    }
}

public static class IngestConnectionLaneExtensions
{
    public const string EnabledSetting = IngestionOptions.SectionName + ":" + nameof(IngestionOptions.ConnectionLane);

    // Puts the lane ahead of Kestrel's HTTP on every endpoint.
    public static WebApplicationBuilder AddIngestConnectionLane(this WebApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue(EnabledSetting, true)) return builder;
        builder.Services.AddSingleton<IngestConnectionLane>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(next =>
        {
            var lane = listen.ApplicationServices.GetRequiredService<IngestConnectionLane>();
            return connection => lane.ServeAsync(connection, next);
        })));
        return builder;
    }
}
