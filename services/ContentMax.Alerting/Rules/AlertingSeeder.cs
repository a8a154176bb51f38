using System.Text.Json;
using Microsoft.Extensions.Options;

namespace ContentMax.Alerting.Rules;

// Reads the seed file of rules and SLOs once at startup (an invalid file stops
// the service, naming the rule and field) and writes it to the database
// before the first evaluation.
public sealed class AlertingSeeder(RuleStore store, IOptions<AlertingOptions> options, IHostEnvironment environment)
{
    private AlertingSeed? _seed;
    private bool _written;

    public AlertingSeed Seed => _seed ??= Load(RulesPath());

    // A relative Alerting:RulesFile is looked for under the host's content root
    // (an operator's own file beside the service), then beside the binaries,
    // where the file alerting ships with is copied.
    private string RulesPath()
    {
        var file = options.Value.RulesFile;
        if (Path.IsPathRooted(file)) return file;
        var beside = Path.Combine(environment.ContentRootPath, file);
        return File.Exists(beside) ? beside : Path.Combine(AppContext.BaseDirectory, file);
    }

    public async Task EnsureWrittenAsync(CancellationToken cancellationToken)
    {
        if (_written) return;
        await store.SeedAsync(Seed, cancellationToken);
        _written = true;
    }

    public static AlertingSeed Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidOperationException($"The alerting seed file '{path}' does not exist (Alerting:RulesFile).");

        AlertingSeed seed;
        try
        {
            seed = JsonSerializer.Deserialize<AlertingSeed>(File.ReadAllText(path), AlertingJson.Options)
                ?? throw new InvalidOperationException($"The alerting seed file '{path}' is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The alerting seed file '{path}' is not valid: {AlertingJson.FieldOf(ex)}: {AlertingJson.Describe(ex)}", ex);
        }

        var problems = seed.Rules.SelectMany(r => AlertingValidation.Check(r).Select(e => $"rule '{r.Id}' {e.Key}: {string.Join("; ", e.Value)}"))
            .Concat(seed.Slos.SelectMany(s => AlertingValidation.Check(s).Select(e => $"SLO '{s.Id}' {e.Key}: {string.Join("; ", e.Value)}")))
            .Concat(seed.Rules.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => $"rule id '{g.Key}' appears more than once"))
            .Concat(seed.Slos.GroupBy(s => s.Id).Where(g => g.Count() > 1).Select(g => $"SLO id '{g.Key}' appears more than once"))
            .ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"The alerting seed file '{path}' is not valid: {string.Join(" | ", problems)}");
        }

        return seed;
    }
}
