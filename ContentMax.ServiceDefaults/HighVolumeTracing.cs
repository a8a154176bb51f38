using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ContentMax.ServiceDefaults;

// The ingest routes carry tens of thousands of requests a second, and the
// storage queue thousands of messages; exporting a span for each would cost
// more than the work itself. Their spans are exported for a sample
// (Telemetry:IngestTraceSampleRate, 1% by default) and whenever they end in an
// error (an answer of 400 or above, an exception, a failed message), so
// failures are always traceable. Everything else keeps every span.
//
//   - A request span is created as usual; when the request starts, a request
//     left out of the sample has its Recorded flag cleared (the exporter
//     checks it when the span ends), and an error sets it again. Its children,
//     the broker message it went into and that message's consumer follow the
//     parent's decision (ParentBasedSampler).
//   - A consumer span that starts a trace of its own (a message whose request
//     was left out carries no trace context) is sampled here by name, and kept
//     as record-only otherwise so an error can still mark it for export.
public sealed class HighVolumeTracing(double sampleRate)
{
    // The storage consumer's endpoint (MessagingTopology.MetricsStorageQueue):
    // MassTransit names its receive and consume spans after it.
    public const string ConsumerEndpoint = "metrics-storage";

    public const string SampleRateSetting = "Telemetry:IngestTraceSampleRate";

    // POST routes whose request spans are sampled.
    public static readonly string[] Paths = ["/api/metrics", "/v1/metrics", "/api/v1/write"];

    public static HighVolumeTracing From(IConfiguration configuration) =>
        new(Math.Clamp(configuration.GetValue<double?>(SampleRateSetting) ?? 0.01, 0, 1));

    public static bool IsHighVolume(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method)) return false;
        foreach (var path in Paths)
        {
            if (request.Path.Equals(path, StringComparison.OrdinalIgnoreCase)
                || (request.Path.StartsWithSegments(path, out var rest) && rest == "/")) return true;
        }

        return false;
    }

    // Whether this high-volume request is in the trace sample.
    public bool SamplesRequest() => Random.Shared.NextDouble() < sampleRate;

    public void OnRequest(Activity activity, HttpRequest request)
    {
        if (IsHighVolume(request) && !SamplesRequest())
        {
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }

    public static void OnResponse(Activity activity, HttpResponse response)
    {
        if (response.StatusCode >= StatusCodes.Status400BadRequest) KeepSpan(activity);
    }

    public static void KeepSpan(Activity activity) => activity.ActivityTraceFlags |= ActivityTraceFlags.Recorded;

    // The root sampler: every root span is sampled but the storage consumer's.
    public Sampler RootSampler() => new ConsumerSampler(new TraceIdRatioBasedSampler(sampleRate));

    private sealed class ConsumerSampler(Sampler ratio) : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters parameters)
        {
            if (!parameters.Name.StartsWith(ConsumerEndpoint, StringComparison.Ordinal)) return new SamplingResult(SamplingDecision.RecordAndSample);
            return ratio.ShouldSample(parameters).Decision == SamplingDecision.RecordAndSample
                ? new SamplingResult(SamplingDecision.RecordAndSample)
                : new SamplingResult(SamplingDecision.RecordOnly);
        }
    }

    // Marks a record-only span that ended in an error for export. It runs
    // before the exporter's processor, which checks the flag.
    public sealed class ErrorKeeper : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity activity)
        {
            if (activity.Status == ActivityStatusCode.Error) KeepSpan(activity);
        }
    }
}
