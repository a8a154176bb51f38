using System.Diagnostics;
using System.Runtime.InteropServices;
using ContentMax.Contracts;
using ContentMax.Monitoring.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContentMax.Benchmarks;

// What ContentMax.Monitoring.Client's middleware adds to a request, in
// process and without the system: a minimal ASP.NET Core pipeline (routing and
// one endpoint) invoked on reused DefaultHttpContexts, without and with the
// middleware, in alternating small batches so both see the same machine. Each
// batch is timed in this thread's CPU time (wall time off Linux), which leaves
// out the time other processes on the shared cores take. The publisher behind
// the middleware aggregates and flushes as in production; its transport
// discards the points.
public sealed class ClientOverheadBenchmark(BenchmarkReport report)
{
    private const int Batch = 200;
    private const int Rounds = 2_000;
    private const int Contexts = 8;
    private const double TargetMicros = 2;

    public async Task RunAsync()
    {
        Console.WriteLine($"Client overhead: {Rounds:N0} batches of {Batch} in-process requests without and with the middleware...");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "bench-service" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ContentMaxMonitoring:FlushInterval"] = "1s" });
        builder.Services.AddLogging();
        builder.Services.AddRouting();
        // What the web host registers and routing listens through.
        builder.Services.AddSingleton(new DiagnosticListener("Microsoft.AspNetCore"));
        builder.AddContentMaxMonitoring().AddTransport<DiscardingTransport>("discard", makeDefault: true);
        using var host = builder.Build();
        await host.StartAsync();

        var bare = Pipeline(host.Services, monitored: false);
        var monitored = Pipeline(host.Services, monitored: true);
        var contexts = Enumerable.Range(0, Contexts).Select(i => NewContext(host.Services, i)).ToArray();

        // Warm-up until both pipelines run fully JIT-compiled code (tier 1 comes
        // after 30 calls and a short delay).
        for (var pass = 0; pass < 3; pass++)
        {
            Run(bare, contexts, 20_000);
            Run(monitored, contexts, 20_000);
            await Task.Delay(300);
        }

        var without = new double[Rounds];
        var with = new double[Rounds];
        for (var r = 0; r < Rounds; r++)
        {
            // Alternate which goes first, so neither always follows the other.
            if (r % 2 == 0)
            {
                without[r] = Measure(bare, contexts);
                with[r] = Measure(monitored, contexts);
            }
            else
            {
                with[r] = Measure(monitored, contexts);
                without[r] = Measure(bare, contexts);
            }
        }

        await host.StopAsync();
        Array.Sort(without);
        Array.Sort(with);
        var (bare50, bare99) = (LoadGenerator.Percentile(without, 50), LoadGenerator.Percentile(without, 99));
        var (with50, with99) = (LoadGenerator.Percentile(with, 50), LoadGenerator.Percentile(with, 99));
        var added50 = with50 - bare50;
        var added99 = with99 - bare99;
        var sent = (DiscardingTransport)host.Services.GetRequiredKeyedService<IMetricsTransport>("discard");
        if (!sent.Routes.SetEquals(["/api/items/{id}"]))
        {
            throw new InvalidOperationException($"The measured requests did not reach the endpoint: recorded routes {string.Join(", ", sent.Routes)}.");
        }

        report.Add("Client middleware: CPU added per request", $"p50 {added50:0.00} µs, p99 {added99:0.00} µs",
            $"bare pipeline p50 {bare50:0.00} µs, p99 {bare99:0.00} µs", $"{with50 / bare50:0.00}×", $"≤ {TargetMicros} µs at p50", added50 <= TargetMicros);
        report.Note($"Client middleware: {Rounds:N0} batches of {Batch} requests each way, {(ThreadCpu.Available ? "thread CPU time" : "wall time")} per batch; " +
            $"with the middleware p50 {with50:0.00} µs, p99 {with99:0.00} µs per request; its publisher formed {sent.Points:N0} points in {sent.Batches:N0} batches " +
            $"for {(long)Rounds * Batch + 3L * 20_000:N0} recorded requests.");
    }

    private static RequestDelegate Pipeline(IServiceProvider services, bool monitored)
    {
        var app = new ApplicationBuilder(services);
        app.UseRouting();
        if (monitored) app.UseContentMaxMonitoring();
        app.UseEndpoints(endpoints => endpoints.MapGet("/api/items/{id}", context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        }));
        return app.Build();
    }

    private static DefaultHttpContext NewContext(IServiceProvider services, int i)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = $"/api/items/{i + 1}";
        context.Response.Body = Stream.Null;
        return context;
    }

    private static double Measure(RequestDelegate pipeline, DefaultHttpContext[] contexts)
    {
        var start = ThreadCpu.Now();
        Run(pipeline, contexts, Batch);
        return (ThreadCpu.Now() - start) / Batch * 1e6;
    }

    private static void Run(RequestDelegate pipeline, DefaultHttpContext[] contexts, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            var context = contexts[i % contexts.Length];
            // What routing left from the previous request on this context.
            context.SetEndpoint(null);
            context.Request.RouteValues.Clear();
            context.Response.StatusCode = StatusCodes.Status200OK;
            var task = pipeline(context);
            if (!task.IsCompletedSuccessfully) task.GetAwaiter().GetResult();
        }
    }

    // Counts what the publisher would have sent, and sends nothing.
    private sealed class DiscardingTransport : IMetricsTransport
    {
        private long _points;
        private long _batches;

        public long Points => Interlocked.Read(ref _points);

        public long Batches => Interlocked.Read(ref _batches);

        // The routes the points were recorded for: the template, if routing matched.
        public HashSet<string> Routes { get; } = [];

        public Task<DeliveryResult> SendAsync(IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
        {
            lock (Routes)
            {
                foreach (var point in points) Routes.Add(point.Tags?.GetValueOrDefault("route") ?? "");
            }

            Interlocked.Add(ref _points, points.Count);
            Interlocked.Increment(ref _batches);
            return Task.FromResult(DeliveryResult.Delivered);
        }
    }

    // This thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID), or wall time where that is not available.
    private static class ThreadCpu
    {
        private const int ClockThreadCpuTime = 3;

        public static bool Available { get; } = OperatingSystem.IsLinux() && TryRead(out _);

        public static double Now() => Available && TryRead(out var seconds) ? seconds : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

        private static bool TryRead(out double seconds)
        {
            seconds = 0;
            if (ClockGetTime(ClockThreadCpuTime, out var time) != 0) return false;
            seconds = time.Seconds + time.Nanoseconds / 1e9;
            return true;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out Timespec time);
    }
}
