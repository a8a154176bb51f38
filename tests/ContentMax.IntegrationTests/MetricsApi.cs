using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// Small helpers for talking to the ingestion and aggregation APIs in tests.
public static class MetricsApi
{
    public static string UniqueName(string prefix = "t") => prefix + Guid.NewGuid().ToString("N")[..16];

    public static Task<HttpResponseMessage> PostAsync(this HttpClient ingestion, object body) =>
        ingestion.PostAsJsonAsync("/api/metrics", body);

    public static async Task<JsonObject?> AggregateAsync(this HttpClient aggregation, string metric, string period = "1h")
    {
        var response = await aggregation.GetAsync($"/api/metrics?period={period}&metric={metric}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        return body["metrics"]![metric]?.AsObject();
    }

    // Polls until the metric's count reaches the expected value (the pipeline
    // is asynchronous), then returns its aggregate.
    public static async Task<JsonObject> WaitForCountAsync(this HttpClient aggregation, string metric, long expected, TimeSpan? timeout = null, string period = "1h") =>
        (await Eventually.UntilAsync(() => aggregation.AggregateAsync(metric, period),
            last => last is not null && last["count"]!.GetValue<long>() >= expected,
            timeout ?? TimeSpan.FromSeconds(30),
            last => $"{metric} reached count {last?["count"]} instead of {expected} in time.",
            TimeSpan.FromMilliseconds(200)))!;

    public static async Task<JsonObject> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
