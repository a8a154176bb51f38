using System.Diagnostics;
using System.Net;

namespace ContentMax.IntegrationTests;

[Collection(AppHostCollection.Name)]
public class BrokerOutageTests(AppHostFixture fixture)
{
    [Fact]
    public async Task WithTheBrokerStopped_IngestionAnswers503WithRetryAfter_ThenRecovers()
    {
        var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        var aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
        var lost = MetricsApi.UniqueName();

        await fixture.App.ResourceCommands.ExecuteCommandAsync("messaging", KnownResourceCommands.StopCommand);
        try
        {
            await WaitForStateAsync("messaging", KnownResourceStates.Exited, KnownResourceStates.Finished);

            var stopwatch = Stopwatch.StartNew();
            var response = await ingestion.PostAsync(new { metric = lost, value = 1 });

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            var problem = await response.ProblemAsync();
            Assert.Contains("broker", problem["detail"]!.GetValue<string>());
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"503 took {stopwatch.Elapsed}");
        }
        finally
        {
            await fixture.App.ResourceCommands.ExecuteCommandAsync("messaging", KnownResourceCommands.StartCommand);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("messaging").WaitAsync(TimeSpan.FromMinutes(2));
        }

        // Once the broker is back, the same client retrying gets 202 and its metric is stored.
        var recovered = MetricsApi.UniqueName();
        var retriedId = Guid.NewGuid();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        HttpStatusCode status;
        do
        {
            status = (await ingestion.PostAsync(new { metric = recovered, value = 2, id = retriedId })).StatusCode;
            if (status != HttpStatusCode.Accepted) await Task.Delay(1000);
        }
        while (status != HttpStatusCode.Accepted && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Accepted, status);
        await aggregation.WaitForCountAsync(recovered, 1, TimeSpan.FromSeconds(60));
        Assert.Null(await aggregation.AggregateAsync(lost));
    }

    private async Task WaitForStateAsync(string resource, params string[] states)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await fixture.App.ResourceNotifications.WaitForResourceAsync(resource, states, timeout.Token);
    }
}
