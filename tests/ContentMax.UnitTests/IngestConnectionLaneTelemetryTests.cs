using System.Diagnostics.Metrics;
using ContentMax.Ingestion.ConnectionLane;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ContentMax.UnitTests;

// The connection lane records its requests in the framework's own
// http.server.request.duration, not in a second instrument of the same name:
// one series for all of the service's requests, in every exporter.
public class IngestConnectionLaneTelemetryTests
{
    [Fact]
    public async Task TheLanesDuration_IsTheInstrumentHostingRecordsIn()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/", () => "ok");
        // Other tests' hosts have meters of the same name: this host's are those its factory made.
        var meters = app.Services.GetRequiredService<IMeterFactory>();

        var hosting = new List<Instrument>();
        var recorded = new List<(double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Meter.Name == IngestConnectionLane.RequestDuration.MeterName && instrument.Name == IngestConnectionLane.RequestDuration.InstrumentName)
                {
                    lock (hosting) hosting.Add(instrument);
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            lock (recorded) recorded.Add((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
        });
        listener.Start();

        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        Assert.Equal("ok", await http.GetStringAsync("/"));

        var lanes = IngestConnectionLane.RequestDuration.From(meters);
        lanes.Record(0.25, IngestConnectionLane.RequestDuration.Tags(StatusCodes.Status202Accepted));
        await app.StopAsync();

        Assert.Same(Assert.Single(hosting), lanes);
        var (value, tags) = Assert.Single(recorded, r => r.Tags["http.route"] as string == IngestConnectionLane.Route);
        Assert.Equal(0.25, value);
        Assert.Equal(202, tags["http.response.status_code"]);
        Assert.Equal("POST", tags["http.request.method"]);
        // The same tag names as hosting's own observations.
        Assert.Equal(recorded.First(r => r.Tags["http.route"] as string == "/").Tags.Keys.Order(), tags.Keys.Order());
    }
}
