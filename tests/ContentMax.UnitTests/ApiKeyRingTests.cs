using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ContentMax.UnitTests;

public class ApiKeyRingTests
{
    private static ApiKeyRing Ring(ApiKeyOptions? options = null) => new(new StaticMonitor<ApiKeyOptions>(options ?? new ApiKeyOptions
    {
        Ingest = "ingest-1, ingest-2",
        Read = "read-1",
        Admin = "admin-1",
        Keys = new()
        {
            ["web-frontend"] = new NamedApiKey { Role = "ingest", Hash = ApiKeyHash.HexOf("named-web-key") },
            ["grafana"] = new NamedApiKey { Role = "Read", Hash = ApiKeyHash.HexOf("named-read-key").ToUpperInvariant() },
        },
    }));

    [Fact]
    public void RolesFor_EachKeyGetsItsRole()
    {
        var ring = Ring();
        Assert.Equal([ApiRoles.Ingest], ring.RolesFor("ingest-1"));
        Assert.Equal([ApiRoles.Ingest], ring.RolesFor("ingest-2"));
        Assert.Equal([ApiRoles.Read], ring.RolesFor("read-1"));
        Assert.Equal([ApiRoles.Ingest], ring.RolesFor("named-web-key"));
        Assert.Equal([ApiRoles.Read], ring.RolesFor("named-read-key"));
    }

    [Fact]
    public void RolesFor_AdminCanAlsoRead() =>
        Assert.Equal([ApiRoles.Admin, ApiRoles.Read], Ring().RolesFor("admin-1"));

    [Theory]
    [InlineData("")]
    [InlineData("ingest-")]
    [InlineData("INGEST-1")]
    [InlineData("ingest-1 ")]
    [InlineData("named-web-key ")]
    public void RolesFor_UnknownKeyHasNoRoles(string key) => Assert.Empty(Ring().RolesFor(key));

    [Fact]
    public void Find_NamesPlainKeysByRole_AndNamedKeysByTheirName()
    {
        var ring = Ring();
        Assert.Equal("ingest", ring.Find("ingest-1")!.Name);
        Assert.Equal("ingest-2", ring.Find("ingest-2")!.Name);
        Assert.Equal("admin", ring.Find("admin-1")!.Name);
        Assert.Equal(("web-frontend", ApiRoles.Ingest), (ring.Find("named-web-key")!.Name, ring.Find("named-web-key")!.Role));
        Assert.Null(ring.Find("named-read-key-2"));
    }

    [Fact]
    public void Find_IgnoresANamedKeyWhoseHashIsNotSha256Hex()
    {
        var ring = Ring(new ApiKeyOptions { Keys = new() { ["pasted"] = new NamedApiKey { Role = "ingest", Hash = "the-key-itself" } } });
        Assert.Null(ring.Find("the-key-itself"));
        Assert.Empty(ring.Names);
    }

    // A key found once is remembered, so its next requests skip the SHA-256; a
    // reload forgets it with the keys it was found among, so a revoked key stops
    // working at once even though it was remembered.
    [Fact]
    public void Find_RemembersAKeyInForce_UntilAReloadRevokesIt()
    {
        var monitor = new ChangingMonitor(new ApiKeyOptions { Ingest = "ingest-1, ingest-2" });
        var ring = new ApiKeyRing(monitor);

        var first = ring.Find("ingest-1");
        Assert.NotNull(first);
        Assert.Same(first, ring.Find("ingest-1"));
        Assert.Null(ring.Find("ingest-3"));
        Assert.Null(ring.Find("ingest-1 "));

        monitor.Change(new ApiKeyOptions { Ingest = "ingest-2" });
        Assert.Null(ring.Find("ingest-1"));
        Assert.Equal("ingest", ring.Find("ingest-2")?.Name);
    }

    // The keys file is a reloadable settings file: a key added to it works, and a
    // key removed from it stops working, without a restart. A broken file is
    // ignored and the keys in force stay.
    [Fact]
    public async Task KeysFile_AddsAndRevokesKeysWithoutRestart_AndABrokenFileKeepsTheKeysInForce()
    {
        var directory = Directory.CreateTempSubdirectory("contentmax-keys-");
        var file = Path.Combine(directory.FullName, "api-keys.json");
        await WriteKeysAsync(file, ("first", "ingest", "first-key"));
        var logs = new ListLogger();
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["ApiKeys:Read"] = "plain-read" })
                .AddJsonFile(file, optional: true, reloadOnChange: true)
                .Build();
            var services = new ServiceCollection()
                .AddSingleton<IConfiguration>(configuration)
                .AddSingleton<ILoggerFactory>(new SingleLoggerFactory(logs))
                .AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.SectionName);
            services.AddSingleton<IValidateOptions<ApiKeyOptions>>(sp =>
                new ApiKeyOptionsValidator([ApiRoles.Read], sp.GetRequiredService<ILogger<ApiKeyOptionsValidator>>()));
            services.AddSingleton<ApiKeyRing>();
            await using var provider = services.BuildServiceProvider();
            var ring = provider.GetRequiredService<ApiKeyRing>();
            Assert.Equal("first", ring.Find("first-key")?.Name);

            await WriteKeysAsync(file, ("second", "read", "second-key"));
            await WaitUntilAsync(() => ring.Find("second-key") is not null && ring.Find("first-key") is null);
            Assert.Equal("read", ring.Find("plain-read")?.Name);

            await File.WriteAllTextAsync(file, """{ "ApiKeys": { "Keys": { "bad name!": { "Role": "owner", "Hash": "xyz" } } } }""");
            await WaitUntilAsync(() => logs.Messages.Any(m => m.Contains("API key settings rejected", StringComparison.Ordinal)));
            Assert.Equal("second", ring.Find("second-key")?.Name);
            Assert.DoesNotContain(logs.Messages, m => m.Contains("xyz", StringComparison.Ordinal));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task WriteKeysAsync(string file, params (string Name, string Role, string Key)[] keys)
    {
        var entries = string.Join(",", keys.Select(k => $$"""  "{{k.Name}}": { "Role": "{{k.Role}}", "Hash": "{{ApiKeyHash.HexOf(k.Key)}}" }"""));
        await File.WriteAllTextAsync(file, $$"""{ "ApiKeys": { "Keys": { {{entries}} } } }""");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the keys file change was not picked up within 10 s");
            await Task.Delay(50);
        }
    }

    private sealed class ChangingMonitor(ApiKeyOptions value) : IOptionsMonitor<ApiKeyOptions>
    {
        private Action<ApiKeyOptions, string?>? _listener;

        public ApiKeyOptions CurrentValue { get; private set; } = value;

        public ApiKeyOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<ApiKeyOptions, string?> listener)
        {
            _listener = listener;
            return null;
        }

        public void Change(ApiKeyOptions options)
        {
            CurrentValue = options;
            _listener?.Invoke(options, null);
        }
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages) Messages.Add(formatter(state, exception));
        }
    }

    private sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}
