using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// A server's request (its key in a header) takes ingestion's fast lane; the
// same request with the key in the query string goes down the full pipeline
// (authentication, rate-limit middleware, authorization, parameter binding).
// Both must get the same answer, byte for byte but the trace id.
[Collection(AppHostCollection.Name)]
public class IngestFastLaneTests(AppHostFixture fixture)
{
    public static TheoryData<string, string, string> Requests => new()
    {
        { "one metric", "application/json", """{"metric":"NAME","value":1}""" },
        { "a batch", "application/json", """[{"metric":"NAME","value":1,"tags":{"route":"/a"}},{"metric":"NAME","value":2}]""" },
        { "a beacon", "text/plain;charset=UTF-8", """{"metric":"NAME","value":3}""" },
        { "invalid JSON", "application/json", "{" },
        { "invalid fields", "application/json", """[{"metric":"","value":"x"},{"metric":"NAME"}]""" },
        { "an unsupported media type", "application/xml", "<metric/>" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task TheLane_AnswersAsTheFullPipelineDoes(string request, string contentType, string body)
    {
        body = body.Replace("NAME", MetricsApi.UniqueName(), StringComparison.Ordinal);
        using var lane = fixture.Client("ingestion", AppHostFixture.IngestKey);
        using var full = fixture.Client("ingestion", key: null);

        using var viaLane = await lane.PostAsync("/api/metrics", new StringContent(body, Encoding.UTF8, MediaType(contentType)));
        using var viaFull = await full.PostAsync($"/api/metrics?key={AppHostFixture.IngestKey}", new StringContent(body, Encoding.UTF8, MediaType(contentType)));

        Assert.Equal(viaFull.StatusCode, viaLane.StatusCode);
        Assert.Equal(viaFull.Content.Headers.ContentType?.ToString(), viaLane.Content.Headers.ContentType?.ToString());
        Assert.Equal(await WithoutTraceIdAsync(viaFull), await WithoutTraceIdAsync(viaLane));
        if (request.StartsWith("invalid", StringComparison.Ordinal) || request.Contains("unsupported", StringComparison.Ordinal))
        {
            Assert.True(viaLane.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{request}: {viaLane.StatusCode}");
        }
        else
        {
            Assert.Equal(HttpStatusCode.Accepted, viaLane.StatusCode);
        }
    }

    private static string MediaType(string contentType) => contentType.Split(';')[0];

    private static async Task<string> WithoutTraceIdAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (JsonNode.Parse(text) is JsonObject problem && problem.ContainsKey("traceId"))
        {
            problem.Remove("traceId");
            return problem.ToJsonString();
        }

        return text;
    }
}
