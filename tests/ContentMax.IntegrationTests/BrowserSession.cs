using System.Diagnostics;
using Microsoft.Playwright;

namespace ContentMax.IntegrationTests;

// A real headless Chromium (Debian's package, installed by the project's own
// script when missing) driven by Playwright, with every console error and page
// error recorded so a test can assert there were none. Content-Security-Policy
// violations are logged as console errors too (Chromium logs most of them
// itself; the securitypolicyviolation listener catches the rest).
public sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        // navigator.webdriver stays false, as in an operator's browser (see UserAgent below).
        "--disable-blink-features=AutomationControlled",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    public IPage Page { get; }

    public List<string> ConsoleErrors { get; } = [];

    public IEnumerable<string> CspViolations => ConsoleErrors.Where(m =>
        m.StartsWith("CSP violation", StringComparison.Ordinal) || m.Contains("Content Security Policy", StringComparison.Ordinal));

    // Opens path, which sends an anonymous browser to the sign-in page, signs in
    // with the read key and waits until path is shown.
    public async Task SignInAsync(string baseUrl, string path = "/", string key = AppHostFixture.ReadKey)
    {
        await Page.GotoAsync(baseUrl + path);
        await Page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await Page.FillAsync("#key", key);
        await Page.ClickAsync("button[type=submit]");
        await Page.WaitForURLAsync(baseUrl + path);
    }

    public static string ScreenshotDirectory { get; } =
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults", "screenshots"));

    private BrowserSession(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error") ConsoleErrors.Add(message.Text);
        };
        page.PageError += (_, error) => ConsoleErrors.Add(error);
    }

    public static async Task<BrowserSession> StartAsync()
    {
        LocalInstall.Ensure(ChromiumPath, "--with-browser");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
            // posthog-js drops events from browsers that look like bots: a
            // "HeadlessChrome" user agent or brand, or navigator.webdriver.
            // Operators use the ordinary browser, so the tests' one looks like it.
            UserAgent = (await browser.NewBrowserCDPSessionAsync() is { } cdp
                ? (await cdp.SendAsync("Browser.getVersion"))?.GetProperty("userAgent").GetString()
                : null)?.Replace("HeadlessChrome", "Chrome", StringComparison.Ordinal),
        });
        await context.AddInitScriptAsync(
            "if (navigator.userAgentData) { const brands = navigator.userAgentData.brands.map(b => ({ ...b, brand: b.brand.replace('HeadlessChrome', 'Chromium') }));" +
            " Object.defineProperty(Object.getPrototypeOf(navigator.userAgentData), 'brands', { get: () => brands }); }");
        await context.AddInitScriptAsync(
            "document.addEventListener('securitypolicyviolation', e => console.error(" +
            "`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));");
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return new BrowserSession(playwright, browser, page);
    }

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
