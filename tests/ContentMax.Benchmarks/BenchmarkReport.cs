using System.Globalization;
using System.Text;

namespace ContentMax.Benchmarks;

// Figures beside baselines measured in the same run, as ratios, because this
// machine is shared and noisy; printed and written to docs/benchmarks.md.
public sealed class BenchmarkReport(BenchmarkOptions options)
{
    public sealed record Row(string Benchmark, string Figure, string Baseline, string Ratio, string Target, bool? Met);

    private readonly List<Row> _rows = [];
    private readonly List<string> _notes = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    public BenchmarkOptions Options => options;

    public double CopyRowsPerSecond { get; set; }

    public void Add(string benchmark, string figure, string baseline, string ratio, string target, bool? met)
    {
        var row = new Row(benchmark, figure, baseline, ratio, target, met);
        _rows.Add(row);
        Console.WriteLine($"  {benchmark}: {figure} (baseline {baseline}, ratio {ratio}) target {target} → {Verdict(met)}");
    }

    public void Note(string note)
    {
        _notes.Add(note);
        Console.WriteLine("  note: " + note);
    }

    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-48} {1,-22} {2,-26} {3,-10} {4,-22} {5}", "benchmark", "figure", "baseline (same run)", "ratio", "target", "met"));
        foreach (var r in _rows)
        {
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-48} {1,-22} {2,-26} {3,-10} {4,-22} {5}", r.Benchmark, r.Figure, r.Baseline, r.Ratio, r.Target, Verdict(r.Met)));
        }
    }

    public void WriteMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Written by the benchmark program; rerun it to refresh this page:");
        md.AppendLine();
        md.AppendLine("```bash");
        md.AppendLine("dotnet run -c Release --project tests/ContentMax.Benchmarks");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("It starts the AppHost in local mode (PostgreSQL, Redis and RabbitMQ as local processes, fresh data");
        md.AppendLine("directory, free ports), then measures each figure beside a baseline taken in the same run.");
        md.AppendLine("The machine is shared and noisy, so the ratios matter more than the absolute numbers.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Run: {_started:yyyy-MM-dd HH:mm} UTC, {(DateTimeOffset.UtcNow - _started).TotalMinutes:0.0} minutes");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Machine()}");
        md.AppendLine();
        md.AppendLine("| benchmark | figure | baseline (same run) | ratio | target | met |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Benchmark} | {r.Figure} | {r.Baseline} | {r.Ratio} | {r.Target} | {Verdict(r.Met)} |");
        }

        if (_notes.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Notes from this run");
            md.AppendLine();
            foreach (var note in _notes) md.AppendLine("- " + note);
        }

        var analysis = Path.Combine(options.RepoRoot, "docs", "benchmarks-analysis.md");
        if (File.Exists(analysis))
        {
            md.AppendLine();
            md.Append(File.ReadAllText(analysis));
        }

        var path = Path.Combine(options.RepoRoot, "docs", "benchmarks.md");
        File.WriteAllText(path, md.ToString());
        Console.WriteLine($"Wrote {path}");
    }

    // With --only=GROUP --write-section: this run's rows and notes as a
    // section of docs/benchmarks.md of their own, between markers, replacing
    // the group's previous section (or added before the notes), so one group
    // can be refreshed without rewriting the other figures. A full run
    // rewrites the page, these rows included in its table.
    public void WriteSection(string group)
    {
        var begin = $"<!-- section:{group} -->";
        var end = $"<!-- /section:{group} -->";
        var md = new StringBuilder();
        md.AppendLine(begin);
        md.AppendLine(CultureInfo.InvariantCulture, $"## {char.ToUpperInvariant(group[0])}{group[1..]} (`--only={group}`)");
        md.AppendLine();
        md.AppendLine("```bash");
        md.AppendLine(CultureInfo.InvariantCulture, $"dotnet run -c Release --project tests/ContentMax.Benchmarks -- --only={group} --write-section");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Run: {_started:yyyy-MM-dd HH:mm} UTC, {(DateTimeOffset.UtcNow - _started).TotalMinutes:0.0} minutes");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Machine()}");
        md.AppendLine();
        md.AppendLine("| benchmark | figure | baseline (same run) | ratio | target | met |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Benchmark} | {r.Figure} | {r.Baseline} | {r.Ratio} | {r.Target} | {Verdict(r.Met)} |");
        }

        if (_notes.Count > 0)
        {
            md.AppendLine();
            foreach (var note in _notes) md.AppendLine("- " + note);
        }

        md.AppendLine(end);

        var path = Path.Combine(options.RepoRoot, "docs", "benchmarks.md");
        var page = File.ReadAllText(path);
        var from = page.IndexOf(begin, StringComparison.Ordinal);
        var to = page.IndexOf(end, StringComparison.Ordinal);
        if (from >= 0 && to > from)
        {
            page = page[..from] + md.ToString().TrimEnd('\n') + page[(to + end.Length)..];
        }
        else
        {
            var notes = page.IndexOf("\n## Notes from this run", StringComparison.Ordinal);
            var at = notes >= 0 ? notes + 1 : page.Length;
            page = page[..at] + md + "\n" + page[at..];
        }

        File.WriteAllText(path, page);
        Console.WriteLine($"Wrote the {group} section of {path}");
    }

    private static string Verdict(bool? met) => met switch { true => "yes", false => "NO", null => "n/a" };

    private static string Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores ({cpu}), {double.Parse(memKb, CultureInfo.InvariantCulture) / 1024 / 1024:0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }
}
