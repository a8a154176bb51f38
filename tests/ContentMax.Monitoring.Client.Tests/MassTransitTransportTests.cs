using System.Collections.Concurrent;
using ContentMax.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.Monitoring.Client.Tests;

// The MassTransit transport on MassTransit's in-memory bus, which serializes
// messages as the RabbitMQ transport does: what a consumer of the shared
// contract receives.
public class MassTransitTransportTests
{
    private static Task<ClientHost> StartAsync(ReceivedBatches received, string flushInterval, bool massTransitFirst = false) =>
        ClientHost.StartAsync(ClientHost.Settings(endpoint: null, ("FlushInterval", flushInterval)), (builder, monitoring) =>
        {
            monitoring.UseMassTransit();
            builder.Services.AddSingleton(received);
            builder.Services.AddMassTransit(x =>
            {
                x.AddConsumer<BatchCollector>();
                x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            });
            // The consumer's endpoint is bound before the test publishes.
            builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
            if (massTransitFirst) MoveMassTransitFirst(builder.Services);
        });

    [Fact]
    public async Task Points_ArePublishedAsMetricsBatchReceived_InTheJsonForm_WithTheirIds()
    {
        var received = new ReceivedBatches();
        await using var client = await StartAsync(received, "100ms");

        for (var i = 0; i < 1500; i++) client.Metrics.Track("series_" + i, i);
        for (var i = 1; i <= 100; i++) client.Metrics.Track("api_response_time", i);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (received.Points < 1501 && DateTime.UtcNow < deadline) await Task.Delay(20);

        var messages = received.Messages.ToArray();
        Assert.Equal(1501, messages.Sum(m => m.Metrics!.Length));
        Assert.All(messages, m =>
        {
            Assert.InRange(m.Metrics!.Length, 1, MetricRules.MaxBatchSize);
            Assert.Null(m.Packed);
            Assert.Equal(ClientHost.ServiceName, m.Source);
            Assert.Empty(MetricRules.Check(m.Metrics, DateTimeOffset.UtcNow));
        });
        var points = messages.SelectMany(m => m.Metrics!).ToArray();
        Assert.All(points, p => Assert.True(p.RequireUniqueId));
        Assert.Equal(points.Length, points.Select(p => p.Id).Distinct().Count());
        var times = Assert.Single(points, p => p.Metric == "api_response_time");
        Assert.Equal(100, times.Distribution!.Count);
        Assert.Equal(5050, times.Value);
        Assert.Equal((1, 100), (times.Distribution.Min, times.Distribution.Max));
        Assert.Equal(100, times.Distribution.BucketCounts.Sum());
    }

    // Whichever was registered first, the client publishes its last points
    // while the bus still runs: it flushes before any service stops.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Stopping_PublishesTheLastPoints_BeforeTheBusStops(bool massTransitFirst)
    {
        var client = await StartAsync(new ReceivedBatches(), "1h", massTransitFirst);
        for (var i = 0; i < 1500; i++) client.Metrics.Track("series_" + i, i);

        await client.StopAsync();

        Assert.Equal((1500L, 0L), (client.Counters.Sent, client.Counters.Dropped));
        await client.DisposeAsync();
    }

    // AddMassTransit's hosted service registered before the client's, as when
    // a service calls AddMassTransit first.
    private static void MoveMassTransitFirst(IServiceCollection services)
    {
        var massTransit = services.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)
            && (d.ImplementationType?.Namespace?.StartsWith("MassTransit", StringComparison.Ordinal) ?? false)).ToList();
        Assert.NotEmpty(massTransit);
        foreach (var d in massTransit)
        {
            services.Remove(d);
            services.Insert(0, d);
        }
    }

    public sealed class ReceivedBatches
    {
        public ConcurrentQueue<MetricsBatchReceived> Messages { get; } = new();

        public int Points => Messages.Sum(m => m.Metrics?.Length ?? 0);
    }

    public sealed class BatchCollector(ReceivedBatches received) : IConsumer<MetricsBatchReceived>
    {
        public Task Consume(ConsumeContext<MetricsBatchReceived> context)
        {
            received.Messages.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
