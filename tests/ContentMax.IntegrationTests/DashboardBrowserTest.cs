using Microsoft.Playwright;

namespace ContentMax.IntegrationTests;

// A headless Chromium of its own for each dashboard test class, pointed at the
// shared AppHost's dashboard.
public abstract class DashboardBrowserTest(AppHostFixture fixture) : IAsyncLifetime
{
    protected AppHostFixture Fixture { get; } = fixture;

    protected BrowserSession Browser { get; private set; } = null!;

    protected string BaseUrl { get; } = fixture.App.GetEndpoint("dashboard", "http").ToString().TrimEnd('/');

    protected IPage Page => Browser.Page;

    public async Task InitializeAsync() => Browser = await BrowserSession.StartAsync();

    public async Task DisposeAsync() => await Browser.DisposeAsync();
}
