using System.Diagnostics;
using Npgsql;

namespace ContentMax.Benchmarks;

// End to end, from HTTP until the rows are committed and queryable: batched
// POSTs (100 metrics each), then single-metric POSTs, stamped like live traffic
// (the last minute). Memory of every service is sampled throughout.
public sealed class IngestionBenchmark(BenchmarkSystem system, BenchmarkReport report)
{
    private readonly NpgsqlDataSource _data = NpgsqlDataSource.Create(system.MetricsDb);
    private readonly Dictionary<string, double> _peakRssMiB = new();

    // singlesOnly: the single-metric POSTs and their bare Kestrel baseline alone (--only=singles).
    public async Task RunAsync(bool singlesOnly = false)
    {
        using var sampling = new CancellationTokenSource();
        var sampler = SampleMemoryAsync(sampling.Token);

        var spread = TimeSpan.FromMinutes(1);
        var batched = LoadGenerator.Bodies(400, 100, spread, seed: 2);
        if (!singlesOnly) await MeasureAsync("Batched ingestion, 100 metrics/POST, end to end", batched, 100, workers: 32, report.Options.BatchedDuration,
            minRate: 100_000, copyRatio: 0.20, p99TargetMs: 250, maxIngestionMicrosPerRequest: null);

        var singles = LoadGenerator.Bodies(2000, 1, spread, seed: 3);
        Console.WriteLine("Baseline: a bare Kestrel process answering the same single-metric POSTs with 202...");
        var bare = await BareKestrelBaseline.MeasureAsync(singles, workers: 512, report.Options.SingleDuration / 2);
        report.Note($"Bare Kestrel baseline: {bare.RequestsPerSecond:N0} requests/s, {bare.MicrosPerRequest:0.0} µs of its CPU per request " +
            "(minimal-API POST that reads the body and answers 202, nothing else; same load generator, 512 connections).");
        var deferred = await BareKestrelBaseline.MeasureAsync(singles, workers: 512, report.Options.SingleDuration / 2, BareKestrelBaseline.Mode.Deferred);
        report.Note($"Bare Kestrel, deferred: {deferred.RequestsPerSecond:N0} requests/s, {deferred.MicrosPerRequest:0.0} µs of its CPU per request " +
            "(the same, but each 202 waits for a loop that completes the waiting requests every 2 ms, as ingestion's wait for the broker).");
        var connection = await BareKestrelBaseline.MeasureAsync(singles, workers: 512, report.Options.SingleDuration / 2, BareKestrelBaseline.Mode.Connection);
        var socket = await BareKestrelBaseline.MeasureAsync(singles, workers: 512, report.Options.SingleDuration / 2, BareKestrelBaseline.Mode.Socket);
        report.Note($"Below Kestrel's HTTP layer, the same requests answered with the same 202 bytes: {connection.MicrosPerRequest:0.0} µs per request " +
            $"from a connection handler on Kestrel's socket transport that parses HTTP/1.1 itself ({connection.RequestsPerSecond:N0}/s), " +
            $"{socket.MicrosPerRequest:0.0} µs from a loop on a bare socket ({socket.RequestsPerSecond:N0}/s): the least a server of our own could cost.");
        await MeasureAsync("Single-metric POSTs, end to end", singles, 1, workers: 512, report.Options.SingleDuration,
            minRate: 15_000, copyRatio: null, p99TargetMs: null, maxIngestionMicrosPerRequest: 30, bareMicrosPerRequest: bare.MicrosPerRequest,
            // Alone, nothing has warmed the services up (JIT tiers, GC sizing) as the batched minute does.
            warmUp: singlesOnly ? TimeSpan.FromSeconds(20) : TimeSpan.FromSeconds(3));

        sampling.Cancel();
        await sampler;
        foreach (var (service, peak) in _peakRssMiB.OrderBy(kv => kv.Key))
        {
            report.Add($"Peak RSS during ingestion: {service}", $"{peak:0} MiB", "—", "—", "≤ 300 MiB", peak <= 300);
        }
    }

    private async Task MeasureAsync(string title, byte[][] bodies, int perPost, int workers, TimeSpan duration,
        double minRate, double? copyRatio, double? p99TargetMs, double? maxIngestionMicrosPerRequest, double? bareMicrosPerRequest = null, TimeSpan? warmUp = null)
    {
        Console.WriteLine($"{title}: {workers} workers for {duration.TotalSeconds:0} s...");
        // A few seconds unmeasured first, so the figures are of JIT-compiled,
        // warmed-up services; measuring starts once all of it is stored.
        var warmStart = await StoredAsync();
        var warm = await new LoadGenerator(system.DirectEndpoint("ingestion"), workers, bodies, perPost).RunAsync(warmUp ?? TimeSpan.FromSeconds(3));
        var before = await WaitForStoredAsync(warmStart + warm.AcceptedMetrics, TimeSpan.FromMinutes(1));
        var cpuBefore = system.CpuSnapshot();
        var telemetryBefore = TelemetrySink.Totals();
        var load = new LoadGenerator(system.DirectEndpoint("ingestion"), workers, bodies, perPost);
        var started = Stopwatch.StartNew();
        var result = await load.RunAsync(duration);
        var ingestionCpu = system.CpuSnapshot().GetValueOrDefault("ingestion") - cpuBefore.GetValueOrDefault("ingestion");
        var stored = await WaitForStoredAsync(before + result.AcceptedMetrics, TimeSpan.FromMinutes(3));
        var endToEnd = started.Elapsed;
        var cpu = system.CpuUsedSince(cpuBefore);
        var telemetry = TelemetrySink.Totals().Select(kv =>
            $"{kv.Key} {kv.Value.Requests - telemetryBefore.GetValueOrDefault(kv.Key).Requests} requests, " +
            $"{(kv.Value.Bytes - telemetryBefore.GetValueOrDefault(kv.Key).Bytes) / 1e6:0.0} MB");
        report.Note($"{title}: OpenTelemetry exported by all services: {string.Join("; ", telemetry)}.");
        report.Note($"{title}: CPU used over {endToEnd.TotalSeconds:0.0} s on {Environment.ProcessorCount} cores: {cpu}.");

        var rate = (stored - before) / endToEnd.TotalSeconds;
        var p99 = LoadGenerator.Percentile(result.LatenciesMs, 99);
        var ratio = rate / report.CopyRowsPerSecond;
        var met = rate >= minRate && (copyRatio is null || ratio >= copyRatio) && (p99TargetMs is null || p99 <= p99TargetMs);
        report.Add(title, $"{rate:N0} metrics/s", $"COPY {report.CopyRowsPerSecond:N0} rows/s", $"{ratio:0.00}×",
            $"≥ {minRate:N0}/s" + (copyRatio is null ? "" : $", ≥ {copyRatio:0.00}× COPY"), met);
        report.Add($"{title}: POST latency", $"p50 {LoadGenerator.Percentile(result.LatenciesMs, 50):0.0} ms, p99 {p99:0.0} ms", "—", "—",
            p99TargetMs is null ? "—" : $"p99 ≤ {p99TargetMs} ms", p99TargetMs is null ? null : p99 <= p99TargetMs);
        var micros = ingestionCpu / result.Requests * 1e6;
        report.Add($"{title}: ingestion CPU per request", $"{micros:0.0} µs",
            bareMicrosPerRequest is { } bare ? $"bare Kestrel 202: {bare:0.0} µs" : "—", bareMicrosPerRequest is { } floor ? $"{micros / floor:0.00}×" : "—",
            maxIngestionMicrosPerRequest is null ? "—" : $"≤ {maxIngestionMicrosPerRequest} µs", maxIngestionMicrosPerRequest is null ? null : micros <= maxIngestionMicrosPerRequest);
        report.Note($"{title}: {result.AcceptedMetrics:N0} metrics accepted in {result.Elapsed.TotalSeconds:0.0} s " +
            $"({result.AcceptedMetrics / result.Elapsed.TotalSeconds:N0}/s at the API), all {stored - before:N0} stored after {endToEnd.TotalSeconds:0.0} s; " +
            $"{result.Rejected:N0} requests answered 503 (backpressure) and retried" +
            (result.FirstRejection is { } first ? $"; the first said {first}." : "."));
    }

    private async Task<long> StoredAsync()
    {
        // The load is stamped within the last minute, so two hours of hour rows hold all of it.
        await using var command = _data.CreateCommand("SELECT coalesce(sum(count), 0)::bigint FROM metric_rollups_hour WHERE bucket >= now() - interval '2 hours'");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> WaitForStoredAsync(long expected, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        long stored;
        while ((stored = await StoredAsync()) < expected && deadline.Elapsed < timeout)
        {
            await Task.Delay(100);
        }

        return stored;
    }

    private async Task SampleMemoryAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var service in BenchmarkSystem.Services)
            {
                if (system.ProcessId(service) is { } pid)
                {
                    var rss = BenchmarkSystem.RssMiB(pid);
                    _peakRssMiB[service] = Math.Max(_peakRssMiB.GetValueOrDefault(service), rss);
                }
            }

            try
            {
                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
