using ContentMax.Benchmarks;

// Runs every benchmark against one AppHost in local mode, prints a table of
// figures beside baselines measured in the same run, and writes docs/benchmarks.md.
var options = BenchmarkOptions.Parse(args);
await using var system = await BenchmarkSystem.StartAsync(options);
var report = new BenchmarkReport(options);

await new CopyBaseline(system, report).RunAsync();
await new IngestionBenchmark(system, report).RunAsync();
await new QueryDataLoader(system, report).RunAsync();
await new QueryBenchmark(system, report).RunAsync();
await new HealthBenchmark(system, report).RunAsync();

report.Print();
report.WriteMarkdown();
