using System.Net.Http.Headers;
using ContentMax.ServiceDefaults;
using ContentMax.ServiceDefaults.ApiKeys;

namespace ContentMax.IntegrationTests;

// Starts the whole AppHost once per test collection: real PostgreSQL, Redis and
// RabbitMQ as local processes in a data directory of this run's own, on free
// ports, so a test run can sit beside a developer's instance.
public sealed class AppHostFixture : IAsyncLifetime
{
    public const string IngestKey = "test-ingest-key";
    public const string ReadKey = "test-read-key";
    public const string AdminKey = "test-admin-key";

    // A named ingest key, configured only by its hash, and one with low limits.
    public const string PartnerKey = "test-partner-key-5b0c";
    public const string ThrottledKey = "test-throttled-key-93ad";
    public const string CardinalKey = "test-cardinal-key-7c21";
    public const int CardinalNames = 3;
    public const int CardinalSeries = 5;
    public const int MaxGroups = 100;
    public const int ThrottledRequestsPerSecond = 5;
    public const int ThrottledMetricsPerSecond = 50;

    // A named admin key, so the alert audit can be seen to record the key's own name.
    public const string OpsConsoleKey = "test-ops-console-key-2f7d";
    public const string OpsConsoleName = "ops-console";

    // A read key in the reloadable keys file (ApiKeys:KeysFile).
    public const string FileKey = "test-file-key-1e44";

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "contentmax-tests-" + Guid.NewGuid().ToString("N")[..12]);

    public DistributedApplication App { get; private set; } = null!;

    public string KeysFile => Path.Combine(_dataDirectory + "-keys", "api-keys.json");

    public string DataDirectory => _dataDirectory;

    public FakeDatadogIntake Datadog { get; private set; } = null!;

    public const string SentryEnvironment = "integration-test";
    public const string PostHogKey = "phc_integration_test";

    // Local Sentry and PostHog that every service reports to (started before the AppHost).
    public FakeSentryServer Sentry { get; private set; } = null!;
    public FakePostHogServer PostHog { get; private set; } = null!;

    // Webhook receivers for alert notifications, one path per format.
    public FakeWebhookReceiver Webhooks { get; private set; } = null!;

    // A real Alertmanager (Debian's prometheus-alertmanager) that alerts labelled route=alertmanager are delivered into.
    public PrometheusServer Alertmanager { get; private set; } = null!;

    public const int MaxConcurrentQueries = 4;
    public const int QueryQueueLimit = 6;

    public const string AlertmanagerToken = "Bearer alertmanager-test-token";

    // The secret in the Slack receiver's URL path, as a real Slack webhook has it.
    public static readonly string SlackToken = "slacksecret" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        Datadog = await FakeDatadogIntake.StartAsync();
        Sentry = await FakeSentryServer.StartAsync();
        PostHog = await FakePostHogServer.StartAsync();
        Alertmanager = await PrometheusServer.StartAlertmanagerAsync("""
            route:
              receiver: nobody
            receivers:
              - name: nobody
            """);
        Webhooks = await FakeWebhookReceiver.StartAsync();
        Directory.CreateDirectory(Path.GetDirectoryName(KeysFile)!);
        await WriteKeysFileAsync(("file-reader", ApiRoles.Read, FileKey));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ContentMax_AppHost>(
        [
            .. LocalAppHostArgs.For(_dataDirectory, IngestKey, ReadKey, AdminKey),
            "ApiKeys:Keys:partner:Role=ingest",
            $"ApiKeys:Keys:partner:Hash={ApiKeyHash.HexOf(PartnerKey)}",
            // A key with small cardinality limits (CardinalityTests); every other key may add names freely.
            "ApiKeys:Keys:cardinal:Role=ingest",
            $"ApiKeys:Keys:cardinal:Hash={ApiKeyHash.HexOf(CardinalKey)}",
            "Ingestion:Cardinality:MaxNamesPerHour=100000",
            "Ingestion:Cardinality:MaxSeriesPerNamePerHour=100000",
            $"Ingestion:Cardinality:Keys:cardinal:MaxNamesPerHour={CardinalNames}",
            $"Ingestion:Cardinality:Keys:cardinal:MaxSeriesPerNamePerHour={CardinalSeries}",
            $"ApiKeys:Keys:{OpsConsoleName}:Role=admin",
            $"ApiKeys:Keys:{OpsConsoleName}:Hash={ApiKeyHash.HexOf(OpsConsoleKey)}",
            "ApiKeys:Keys:throttled:Role=ingest",
            $"ApiKeys:Keys:throttled:Hash={ApiKeyHash.HexOf(ThrottledKey)}",
            $"RateLimits:Keys:throttled:RequestsPerSecond={ThrottledRequestsPerSecond}",
            $"RateLimits:Keys:throttled:MetricsPerSecond={ThrottledMetricsPerSecond}",
            $"ApiKeys:KeysFile={KeysFile}",
            // The services' own API metrics would mix with the points the tests count;
            // SelfMonitoringTests run them on an AppHost of their own.
            "SelfMonitoring:Enabled=false",
            // Every test sends from 127.0.0.1, and many send invalid keys on purpose.
            "RateLimits:InvalidKeysPerMinute=100000",
            "Dashboard:SignInAttemptsPerMinute=100000",
            $"Ingestion:AllowedOrigins:0={BrowserSnippetTests.SiteOrigin}", // the browser snippet tests' own site (CORS)
            $"Dashboard:BrowserMetrics:SampleRate={BrowserSnippetTests.DashboardSampleRate}", // see BrowserSnippetTests
            // Probe fast, so status changes show within a couple of seconds.
            "HealthProbe:Interval=00:00:01",
            "HealthProbe:HistoryTrimInterval=2s", // HealthProbeTests watch old transitions go
            "HealthProbe:Timeout=00:00:02",
            "Dashboard:HealthRefresh=00:00:02",
            // Names with more than 1000 values in a period are answered from rollup sketches.
            "Aggregation:ExactLimit=1000",
            // Query limits small enough for QueryBoundsTests to reach.
            $"Aggregation:MaxConcurrentQueries={MaxConcurrentQueries}",
            $"Aggregation:QueryQueueLimit={QueryQueueLimit}",
            "Aggregation:QueryTimeout=10s",
            "Aggregation:CompactionInterval=00:00:02",
            $"Aggregation:MaxGroups={MaxGroups}", // ExplorerTests reach it
            $"Datadog:BaseUrl={Datadog.BaseUrl}",
            $"Datadog:ApiKey={FakeDatadogIntake.ApiKey}",
            "Datadog:PollInterval=00:00:00.200",
            "Datadog:AuthFailurePause=2s",
            "Dashboard:MetricsRefresh=00:00:02",
            $"Sentry:Dsn={Sentry.Dsn}",
            $"Sentry:Environment={SentryEnvironment}",
            "Sentry:TracesSampleRate=1.0",
            $"PostHog:ProjectApiKey={PostHogKey}",
            $"PostHog:Host={PostHog.BaseUrl}",
            // Evaluate alerts every second and deliver notifications promptly.
            "Alerting:EvaluationInterval=00:00:01",
            "Alerting:DeliveryPollInterval=00:00:00.200",
            // A rule or SLO gives up after 2 s (AlertingTests lock an SLO table to see it).
            "Alerting:RuleTimeout=2s",
            // The fake receivers listen on this machine.
            "Alerting:AllowPrivateReceivers=true",
            "Alerting:Receivers:0:Name=team-webhook",
            "Alerting:Receivers:0:Format=generic",
            $"Alerting:Receivers:0:Url={Webhooks.BaseUrl}/generic",
            "Alerting:Receivers:1:Name=team-slack",
            "Alerting:Receivers:1:Format=slack",
            $"Alerting:Receivers:1:Url={Webhooks.BaseUrl}/slack/services/T0CONTENTMAX/{SlackToken}",
            "Alerting:Receivers:2:Name=alertmanager",
            "Alerting:Receivers:2:Format=alertmanager-webhook",
            $"Alerting:Receivers:2:Url={Webhooks.BaseUrl}/alertmanager",
            $"Alerting:Receivers:2:Headers:Authorization={AlertmanagerToken}",
            // Only alerts labelled route=flaky go here, and the tests make it fail first.
            "Alerting:Receivers:3:Name=flaky",
            "Alerting:Receivers:3:Format=generic",
            $"Alerting:Receivers:3:Url={Webhooks.BaseUrl}/flaky",
            "Alerting:Receivers:3:Matchers:route=flaky",
            // Alerts labelled route=alertmanager go into the real Alertmanager, re-sent every 2 s while firing.
            "Alerting:Receivers:4:Name=alertmanager-api",
            "Alerting:Receivers:4:Format=alertmanager-api",
            $"Alerting:Receivers:4:Url={Alertmanager.BaseUrl}",
            "Alerting:Receivers:4:Matchers:route=alertmanager",
            "Alerting:AlertmanagerResendInterval=2s",
            // Server-side product events (the dashboard's feature_used) leave within half a second.
            "PostHog:FlushInterval=00:00:00.500",
            // Browser replays only for sessions with an error, so what arrives is deterministic.
            "Sentry:ReplaysSessionSampleRate=0",
            "Sentry:ReplaysOnErrorSampleRate=1.0",
            // PostHog's session recording is off in Development unless asked for.
            "PostHog:SessionRecording=true",
        ]);

        App = await TestAppHost.StartAsync(builder);
    }

    // Replaces the keys file; every service reloads it within a second or so.
    public Task WriteKeysFileAsync(params (string Name, string Role, string Key)[] keys)
    {
        var entries = string.Join(",", keys.Select(k => $$"""  "{{k.Name}}": { "Role": "{{k.Role}}", "Hash": "{{ApiKeyHash.HexOf(k.Key)}}" }"""));
        var temporary = KeysFile + ".tmp";
        File.WriteAllText(temporary, $$"""{ "ApiKeys": { "Keys": { {{entries}} } } }""");
        File.Move(temporary, KeysFile, overwrite: true);
        return Task.CompletedTask;
    }

    public HttpClient Client(string service, string? key) => TestAppHost.Client(App, service, key);

    // A connection of its own to metricsdb, never from a pool: a pooled one may
    // be left over from before a test restarted PostgreSQL.
    public async Task<Npgsql.NpgsqlConnection> OpenDatabaseAsync()
    {
        var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(await ConnectionStringAsync("metricsdb")) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<string> ConnectionStringAsync(string resource) =>
        await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"No connection string for {resource}.");

    public async Task DisposeAsync()
    {
        await TestAppHost.StopAsync(App, Path.GetDirectoryName(KeysFile)!, _dataDirectory);
        await Datadog.DisposeAsync();
        await Sentry.DisposeAsync();
        await PostHog.DisposeAsync();
        await Webhooks.DisposeAsync();
        await Alertmanager.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "AppHost";
}
