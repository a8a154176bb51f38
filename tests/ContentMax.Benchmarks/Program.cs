using ContentMax.Benchmarks;

// Runs every benchmark against one AppHost in local mode, prints a table of
// figures beside baselines measured in the same run, and writes docs/benchmarks.md.
if (args is [BareKestrelBaseline.ServerArgument, var mode])
{
    await BareKestrelBaseline.ServeAsync(Enum.Parse<BareKestrelBaseline.Mode>(mode));
    return;
}

var options = BenchmarkOptions.Parse(args);
var report = new BenchmarkReport(options);

// The system runs only for the groups measured against it: `--only=client`
// starts none, and the client group runs after it has stopped, on idle cores.
if (options.Only != "client")
{
    await using var system = await BenchmarkSystem.StartAsync(options);
    await new CopyBaseline(system, report).RunAsync();
    // Queries (and the explorer's) first, over the 7 days of points the loader writes: the
    // ingestion benchmark then writes millions more into the last minutes,
    // which would make the 24h figures about its load rather than the dataset.
    if (options.Runs("queries"))
    {
        await new QueryDataLoader(system, report).RunAsync();
        await new QueryBenchmark(system, report).RunAsync();
    }

    if (options.Runs("explorer")) await new ExplorerBenchmark(system, report).RunAsync();

    if (options.Runs("ingestion")) await new IngestionBenchmark(system, report).RunAsync();
    else if (options.Only == "singles") await new IngestionBenchmark(system, report).RunAsync(singlesOnly: true);

    if (options.Runs("health")) await new HealthBenchmark(system, report).RunAsync();
}

if (options.Runs("client")) await new ClientOverheadBenchmark(report).RunAsync();

report.Print();
// Only a complete run replaces docs/benchmarks.md; one group may refresh its own section.
if (options.Only is null) report.WriteMarkdown();
else if (args.Contains("--write-section")) report.WriteSection(options.Only);
