using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.IntegrationTests.AppHost;

[Collection(AppHostCollection.Name)]
public class ServiceProcessTests(AppHostFixture fixture)
{
    // glibc would give each thread that allocates natively an arena of its own
    // and keep what is freed there; every service runs with two (NativeMemory.cs).
    [Theory]
    [InlineData("ingestion")]
    [InlineData("aggregation")]
    [InlineData("health-probe")]
    [InlineData("dashboard")]
    public async Task EachService_RunsWithTwoMallocArenas(string service)
    {
        var model = fixture.App.Services.GetRequiredService<DistributedApplicationModel>();
        var resource = model.Resources.OfType<ProjectResource>().Single(r => r.Name == service);
#pragma warning disable CS0618 // The resolved environment, as the service is started with it (as ApiKeyTests reads it).
        var environment = await resource.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618

        Assert.Equal("2", environment[ContentMax.AppHost.NativeMemoryExtensions.ArenaMaxVariable]);
    }
}
