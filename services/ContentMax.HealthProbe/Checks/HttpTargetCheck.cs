namespace ContentMax.HealthProbe.Checks;

// GET /health of a ContentMax service, or a named external HTTP target. One
// attempt per run: the "probe" client has no resilience handler, so a retry
// cannot turn a failure into a slow success.
public sealed class HttpTargetCheck(
    IHttpClientFactory httpClients, string name, string group, HttpMethod method, Uri url, int expectedStatus, TimeSpan? timeout = null)
    : IHealthProbeCheck
{
    public const string HttpClientName = "probe";

    public string Name => name;

    public string Group => group;

    public TimeSpan? Timeout => timeout;

    public async Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return (int)response.StatusCode == expectedStatus
            ? ProbeOutcome.Success
            : ProbeOutcome.Failure($"answered HTTP {(int)response.StatusCode}, expected {expectedStatus}");
    }
}
