using ContentMax.ServiceDefaults.ApiKeys;

namespace ContentMax.IntegrationTests;

// A dashboard session lives only as long as the key it signed in with.
[Collection(AppHostCollection.Name)]
public class DashboardSessionTests(AppHostFixture fixture) : DashboardBrowserTest(fixture)
{
    [Fact]
    public async Task RevokingTheKeyASessionSignedInWith_EndsTheSession()
    {
        await Browser.SignInAsync(BaseUrl, "/", AppHostFixture.FileKey);
        await Page.GotoAsync(BaseUrl + "/?tab=performance");
        Assert.DoesNotContain("/signin", Page.Url);

        // The key file now holds another key instead: file-reader is revoked.
        var other = "test-session-key-" + Guid.NewGuid().ToString("N")[..8];
        await Fixture.WriteKeysFileAsync(("file-reader-2", ApiRoles.Read, other));
        try
        {
            await Eventually.UntilAsync(async () =>
            {
                await Page.GotoAsync(BaseUrl + "/?tab=errors");
                return Page.Url;
            }, url => url.Contains("/signin", StringComparison.Ordinal), TimeSpan.FromSeconds(20), url => $"still signed in at {url}",
            TimeSpan.FromMilliseconds(500));
        }
        finally
        {
            await Fixture.WriteKeysFileAsync(("file-reader", ApiRoles.Read, AppHostFixture.FileKey));
        }
    }
}
