using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ContentMax.Contracts;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client.Delivery;

// POSTs batches to {Endpoint}/api/metrics through the named HttpClient, whose
// resilience handler retries brief network faults in place. What the server
// answers decides the rest:
//   2xx                       delivered
//   429, 503 (Retry-After),   retry later, as the server asks
//   408, other 5xx
//   400, 401, 403, 413, 4xx   rejected: sending the same bytes again cannot help
// A body over the server's 1 MiB is sent in halves; a half that arrived before
// a later half failed is harmless to send again, because every point keeps its id.
internal sealed class HttpMetricsTransport(IHttpClientFactory httpClients, IOptions<ContentMaxMonitoringOptions> options) : IMetricsTransport
{
    public const string ClientName = "ContentMax.Monitoring.Client";
    public const int MaxBodyBytes = 1024 * 1024;

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    public Task<DeliveryResult> SendAsync(IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken) =>
        SendAsync(points, 0, points.Count, cancellationToken);

    private async Task<DeliveryResult> SendAsync(IReadOnlyList<MetricPoint> points, int start, int count, CancellationToken cancellationToken)
    {
        var body = MetricJsonWriter.Write(points, start, count);
        if (body.Length > MaxBodyBytes && count > 1)
        {
            var half = count / 2;
            var first = await SendAsync(points, start, half, cancellationToken).ConfigureAwait(false);
            if (first.Status != DeliveryStatus.Delivered) return first;
            return await SendAsync(points, start + half, count - half, cancellationToken).ConfigureAwait(false);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/metrics") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        // Without validation: a malformed key is for the server to refuse (401), once, not an exception to retry.
        if (!string.IsNullOrEmpty(options.Value.IngestKey)) request.Headers.TryAddWithoutValidation("X-Api-Key", options.Value.IngestKey);

        var http = httpClients.CreateClient(ClientName);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            return await OutcomeAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            return DeliveryResult.Retry(e.HttpRequestError == HttpRequestError.Unknown ? e.Message : Describe(e.HttpRequestError));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The resilience handler's own timeout.
            return DeliveryResult.Retry("timed out");
        }
    }

    private static async Task<DeliveryResult> OutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode) return DeliveryResult.Delivered;
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || status >= 500)
        {
            return DeliveryResult.Retry($"HTTP {status}", RetryAfter(response));
        }

        // A refusal: say why, from the problem details, for the one log line it gets.
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var detail = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "the ingest key is missing or unknown (ContentMaxMonitoring:IngestKey)",
            HttpStatusCode.Forbidden => "the key does not have the ingest role (ContentMaxMonitoring:IngestKey)",
            HttpStatusCode.RequestEntityTooLarge => "the body is over the server's 1 MiB",
            _ => text.Length <= 1000 ? text : text[..1000] + "…",
        };
        return DeliveryResult.Rejected($"HTTP {status}: {detail}");
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (delay is null) return null;
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxRetryAfter ? MaxRetryAfter : delay;
    }

    private static string Describe(HttpRequestError error)
    {
        var name = error.ToString();
        var text = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append(' ');
            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }
}
