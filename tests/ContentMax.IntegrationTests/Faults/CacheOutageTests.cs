using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests.Faults;

[Collection(FaultCollection.Name)]
public class CacheOutageTests(FaultFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task CacheStopped_IngestionAndQueriesKeepWorking_HealthIsDegraded_AndRateLimitsApplyPerInstance()
    {
        await fixture.WaitForAllHealthyAsync(TimeSpan.FromMinutes(2));
        using var ingestion = fixture.Client("ingestion", FaultFixture.IngestKey);
        using var limited = fixture.Client("ingestion", FaultFixture.LimitedKey);
        using var aggregation = fixture.Client("aggregation", FaultFixture.ReadKey);
        using var health = fixture.Client("health-probe", key: null);
        var rows = await fixture.RowsAsync();

        await fixture.App.StopAsync("cache", TimeSpan.FromMinutes(1));
        try
        {
            var status = await Eventually.UntilAsync(async () =>
                {
                    using var response = await health.GetAsync("/api/health");
                    return (response.StatusCode, Body: JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
                },
                h => h.Body["checks"]?["cache"]?.GetValue<string>() == "degraded", TimeSpan.FromSeconds(30),
                h => $"/api/health said {h.StatusCode} {h.Body.ToJsonString()}");
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal("degraded", status.Body["status"]!.GetValue<string>());

            var stream = MetricStream.Start(ingestion);
            await stream.Completion;
            output.WriteLine(stream.Describe());
            Assert.Equal(stream.Total, stream.Accepted);
            Assert.Equal(0, stream.Unavailable + stream.ServerErrors + stream.RateLimited + stream.TransportFailures);
            var (stored, distinct) = await rows.WaitForAsync(stream.Metric, stream.Total, TimeSpan.FromSeconds(60));
            Assert.Equal((stream.Total, stream.Total), ((int)stored, (int)distinct));

            // Queries go straight to Postgres.
            var aggregate = await aggregation.WaitForCountAsync(stream.Metric, stream.Total, TimeSpan.FromSeconds(30));
            Assert.Equal(stream.Total, aggregate["count"]!.GetValue<long>());
            using var all = await aggregation.GetAsync("/api/metrics?period=1h");
            Assert.Equal(HttpStatusCode.OK, all.StatusCode);

            // Without Redis each ingestion replica counts the key on its own, so
            // together they let more than the limit through, but each at most the limit.
            var probe = await LimitProbe.RunAsync(limited, TimeSpan.FromSeconds(3.5));
            output.WriteLine($"Limited key, {FaultFixture.LimitedRequestsPerSecond}/s, Redis down: {probe}");
            Assert.True(probe.Limited > 0, probe.ToString());
            Assert.InRange(probe.MostInOneWindow, FaultFixture.LimitedRequestsPerSecond + 1, FaultFixture.LimitedRequestsPerSecond * FaultFixture.Replicas);
            Assert.InRange(probe.Accepted, 1, FaultFixture.LimitedRequestsPerSecond * FaultFixture.Replicas * probe.WindowsSpanned);
        }
        finally
        {
            await fixture.App.StartAsync("cache", TimeSpan.FromMinutes(1));
        }

        await Eventually.UntilAsync(async () => JsonNode.Parse(await health.GetStringAsync("/api/health"))!["checks"]!["cache"]!.GetValue<string>(),
            s => s == "healthy", TimeSpan.FromSeconds(30), s => $"cache still {s} after the restart");
    }
}
