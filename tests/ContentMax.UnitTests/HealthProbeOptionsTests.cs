using System.ComponentModel.DataAnnotations;
using ContentMax.HealthProbe;
using Microsoft.Extensions.Configuration;

namespace ContentMax.UnitTests;

public class HealthProbeOptionsTests
{
    private static List<string> Problems(HealthProbeOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage!).ToList();
    }

    private static ExternalTarget Target(string name = "google-apis", string url = "https://www.googleapis.com/discovery/v1/apis") =>
        new() { Name = name, Url = new Uri(url, UriKind.RelativeOrAbsolute) };

    [Fact]
    public void TheServicesDefaults_BindAndAreValid()
    {
        // The service's own appsettings.json, as the host loads it (found from the repository root:
        // every service's appsettings.json lands in this project's output under the same name).
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "ContentMax.sln"))) root = root.Parent!;
        var path = Path.Combine(root.FullName, "services", "ContentMax.HealthProbe", "appsettings.json");
        var configuration = new ConfigurationBuilder().AddJsonFile(path).Build();
        var options = configuration.GetSection(HealthProbeOptions.SectionName).Get<HealthProbeOptions>()!;

        Assert.Empty(Problems(options));
        Assert.Equal(TimeSpan.FromSeconds(15), options.Interval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Timeout);
        Assert.Equal(["google-apis", "shopify"], options.External.Select(t => t.Name));
        Assert.All(options.External, t => Assert.Equal("HEAD", t.Method));
        Assert.Equal(["ingestion", "aggregation", "dashboard"], options.Services);
    }

    [Fact]
    public void AnIntervalOfOneSecond_AsTheTestsUse_IsValid() =>
        Assert.Empty(Problems(new HealthProbeOptions { Interval = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(2), External = [Target()] }));

    [Theory]
    [InlineData("00:00:00.050", "00:00:05")]
    [InlineData("00:00:15", "00:00:00")]
    [InlineData("02:00:00", "00:00:05")]
    public void IntervalAndTimeout_MustBeSensible(string interval, string timeout) =>
        Assert.NotEmpty(Problems(new HealthProbeOptions { Interval = TimeSpan.Parse(interval), Timeout = TimeSpan.Parse(timeout) }));

    [Fact]
    public void TargetNames_MustBeUnique()
    {
        var problems = Problems(new HealthProbeOptions { External = [Target("shop"), Target("shop", "https://shop.example/")] });
        Assert.Equal(["HealthProbe:External:1:Name 'shop' is used by another target."], problems);
    }

    [Theory]
    [InlineData("", "https://a.example/", "HEAD", 200, null, "HealthProbe:External:0:Name is required")]
    [InlineData("a b", "https://a.example/", "HEAD", 200, null, "HealthProbe:External:0:Name is required")]
    [InlineData("a", "/relative", "HEAD", 200, null, "HealthProbe:External:0:Url must be an absolute http or https URL.")]
    [InlineData("a", "ftp://a.example/", "HEAD", 200, null, "HealthProbe:External:0:Url must be an absolute http or https URL.")]
    [InlineData("a", "https://a.example/", "POST", 200, null, "HealthProbe:External:0:Method must be GET or HEAD")]
    [InlineData("a", "https://a.example/", "get", 42, null, "HealthProbe:External:0:ExpectedStatus must be an HTTP status code")]
    [InlineData("a", "https://a.example/", "GET", 204, "00:10:00", "HealthProbe:External:0:Timeout must be between")]
    public void ABadTarget_IsNamedInTheMessage(string name, string url, string method, int expected, string? timeout, string message)
    {
        var target = new ExternalTarget
        {
            Name = name, Url = new Uri(url, UriKind.RelativeOrAbsolute), Method = method, ExpectedStatus = expected,
            Timeout = timeout is null ? null : TimeSpan.Parse(timeout),
        };

        var problem = Assert.Single(Problems(new HealthProbeOptions { External = [target] }));
        Assert.StartsWith(message, problem);
    }

    [Fact]
    public void AMissingUrl_IsAProblem() =>
        Assert.Single(Problems(new HealthProbeOptions { External = [new ExternalTarget { Name = "a" }] }));

    [Fact]
    public void ServiceNames_MustBeServiceDiscoveryNames() =>
        Assert.Single(Problems(new HealthProbeOptions { Services = ["ingestion", "http://evil/"] }));
}
