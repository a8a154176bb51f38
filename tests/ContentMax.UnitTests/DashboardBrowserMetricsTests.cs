using System.ComponentModel.DataAnnotations;
using ContentMax.Dashboard;
using Microsoft.Extensions.Configuration;

namespace ContentMax.UnitTests;

// The dashboard's own browser metrics (Dashboard:BrowserMetrics): when they are
// on, and the CSP that lets exactly the ingestion origin in.
public class DashboardBrowserMetricsTests
{
    [Fact]
    public void WithoutEndpointOrKey_ItIsOff_AndTheCspIsUnchanged()
    {
        foreach (var options in new[] { Bind(), Bind(("Endpoint", "http://localhost:5181")), Bind(("Key", "k")) })
        {
            Assert.False(options.BrowserMetrics.Enabled);
            Assert.Null(options.BrowserMetrics.Origin);
            Assert.Null(options.BrowserMetrics.ScriptUrl);
            Assert.Empty(Validate(options));
        }

        var csp = SecurityHeaders.ContentSecurityPolicy([], scriptOrigins: null);
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("connect-src 'self';", csp);
        Assert.DoesNotContain("script-src-elem", csp);
    }

    [Fact]
    public void EndpointAndKey_TurnItOn_TaggedDashboard()
    {
        var metrics = Bind(("Endpoint", "http://localhost:5181/"), ("Key", "ingest-key")).BrowserMetrics;

        Assert.True(metrics.Enabled);
        Assert.Equal("http://localhost:5181", metrics.Origin);
        Assert.Equal("http://localhost:5181", metrics.BaseUrl);
        Assert.Equal("http://localhost:5181/sdk/contentmax.js", metrics.ScriptUrl);
        Assert.Equal("dashboard", metrics.Service);
        Assert.Equal(1.0, metrics.SampleRate);
    }

    [Fact]
    public void Csp_AllowsExactlyTheIngestionOrigin_ForScriptElementsAndConnections()
    {
        var metrics = Bind(("Endpoint", "https://ingest.example:8443/monitoring"), ("Key", "k")).BrowserMetrics;

        var csp = SecurityHeaders.ContentSecurityPolicy(["https://sentry.example"], "https://sentry.example/api/1/security/", [metrics.Origin!]);
        var directives = csp.Split("; ");

        Assert.Equal("https://ingest.example:8443/monitoring/sdk/contentmax.js", metrics.ScriptUrl);
        // script-src itself is unchanged: the origin may only provide <script src> elements.
        Assert.Contains("script-src 'self' 'report-sample'", directives);
        Assert.Contains("script-src-elem 'self' 'report-sample' https://ingest.example:8443", directives);
        Assert.Contains("connect-src 'self' https://sentry.example https://ingest.example:8443", directives);
        Assert.DoesNotContain("/monitoring", csp);
        Assert.DoesNotContain("*", csp);
    }

    [Theory]
    [InlineData("localhost:5181")]
    [InlineData("ftp://ingest.example")]
    [InlineData("http://ingest.example/?key=secret")]
    public void AnEndpointThatIsNotAnHttpAddress_StopsStartup(string endpoint)
    {
        var errors = Validate(Bind(("Endpoint", endpoint), ("Key", "k")));

        var error = Assert.Single(errors);
        Assert.Contains("Dashboard:BrowserMetrics", error.ErrorMessage);
        Assert.Contains("Endpoint", error.ErrorMessage);
    }

    [Fact]
    public void SampleRate_IsAFractionFromZeroToOne()
    {
        Assert.Empty(Validate(Bind(("Endpoint", "http://localhost:5181"), ("Key", "k"), ("SampleRate", "0.25"))));
        Assert.Contains(Validate(Bind(("SampleRate", "1.5"))), e => e.ErrorMessage!.Contains("SampleRate", StringComparison.Ordinal));
    }

    private static DashboardOptions Bind(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>($"Dashboard:BrowserMetrics:{v.Key}", v.Value)))
            .Build();
        var options = new DashboardOptions();
        configuration.GetSection(DashboardOptions.SectionName).Bind(options);
        return options;
    }

    // What ValidateDataAnnotations does at startup.
    private static List<ValidationResult> Validate(DashboardOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
