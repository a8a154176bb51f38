using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.IntegrationTests;

// Prometheus remote write with a real Prometheus: it scrapes a small endpoint
// this test serves every second and remote-writes what it scraped to ingestion.
[Collection(AppHostCollection.Name)]
public class PrometheusRemoteWriteTests(AppHostFixture fixture)
{
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task ScrapedCounterAndGauge_ArriveThroughRemoteWrite()
    {
        var prefix = MetricsApi.UniqueName("prom");
        var (counterName, gaugeName) = ($"{prefix}_requests_total", $"{prefix}_temperature");
        var target = new ScrapeTarget(counterName, gaugeName) { Counter = 100, Gauge = 5 };
        await using var targetApp = await target.StartAsync();
        var ingestion = fixture.App.GetEndpoint("ingestion", "http");

        await using var prometheus = await PrometheusServer.StartAsync($$"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: {{prefix}}
                static_configs:
                  - targets: ['{{target.Address}}']
            remote_write:
              - url: {{new Uri(ingestion, "/api/v1/write")}}
                # The key as a bearer token: Debian's Prometheus 2.42 build does not send
                # remote_write `headers` (seen against a server echoing what arrived).
                authorization:
                  type: Bearer
                  credentials: {{AppHostFixture.IngestKey}}
                queue_config:
                  batch_send_deadline: 1s
                  min_shards: 1
                  max_shards: 1
                  min_backoff: 100ms
                  max_backoff: 1s
                metadata_config:
                  send_interval: 1s
                # Only this test's series; not Prometheus' own up and scrape_* series.
                write_relabel_configs:
                  - source_labels: [__name__]
                    regex: '{{prefix}}_.*'
                    action: keep
            """);

        // The counter's first sample is its baseline: storage counts only what it grows by afterwards.
        await WaitForGaugeAsync(gaugeName, 5, prometheus);
        (target.Counter, target.Gauge) = (130, 7);
        await WaitForGaugeAsync(gaugeName, 7, prometheus);
        (target.Counter, target.Gauge) = (175, 3);
        var rows = await WaitForGaugeAsync(gaugeName, 3, prometheus);

        await Eventually.UntilAsync(() => _aggregation.AggregateAsync(counterName),
            a => a is not null && a["sum"]!.GetValue<double>() >= 75, TimeSpan.FromSeconds(20),
            a => $"{counterName} summed to {a?["sum"]} instead of 75.\n{prometheus.RecentLog}", TimeSpan.FromMilliseconds(200));
        Assert.All(rows, r => Assert.Contains(r["value"]!.GetValue<double>(), new[] { 5.0, 7, 3 }));
        Assert.All(rows, r => Assert.Equal(prefix, r["tags"]!["job"]!.GetValue<string>()));
        Assert.All(rows, r => Assert.Equal(target.Address, r["tags"]!["instance"]!.GetValue<string>()));

        // A couple more scrapes of the same total add nothing.
        await Task.Delay(2500);
        Assert.Equal(75, (await _aggregation.AggregateAsync(counterName))!["sum"]!.GetValue<double>());
    }

    private async Task<List<JsonObject>> WaitForGaugeAsync(string metric, double value, PrometheusServer prometheus) =>
        await Eventually.UntilAsync(async () =>
            {
                var body = JsonNode.Parse(await _aggregation.GetStringAsync($"/api/metrics/raw?metric={metric}&period=1h&limit=1000"))!;
                return body["items"]!.AsArray().Select(item => item!.AsObject()).ToList();
            },
            rows => rows.Any(r => r["value"]!.GetValue<double>() == value), TimeSpan.FromSeconds(20),
            rows => $"{metric} never showed {value} (saw {string.Join(", ", rows.Select(r => r["value"]))}).\n{prometheus.RecentLog}",
            TimeSpan.FromMilliseconds(200));

    // Serves /metrics in the Prometheus text format with values the test changes.
    private sealed class ScrapeTarget(string counterName, string gaugeName)
    {
        public volatile int Counter;
        public volatile float Gauge;

        public string Address { get; private set; } = "";

        public async Task<WebApplication> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/metrics", () => Results.Text(
                string.Create(CultureInfo.InvariantCulture, $"""
                    # HELP {counterName} Requests served.
                    # TYPE {counterName} counter
                    {counterName} {Counter}
                    # HELP {gaugeName} Temperature.
                    # TYPE {gaugeName} gauge
                    {gaugeName} {Gauge}

                    """),
                "text/plain; version=0.0.4; charset=utf-8"));
            await app.StartAsync();
            Address = new Uri(app.Urls.First()).Authority;
            return app;
        }
    }
}
