using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults.ApiKeys;

// Checks the key settings at startup (ValidateOnStart) and on every reload. At
// startup a failure stops the service; on a reload the options monitor keeps
// the keys in force, so the failure is logged here or nobody would know the
// new file was ignored.
public sealed partial class ApiKeyOptionsValidator(IReadOnlyCollection<string> requiredRoles, ILogger<ApiKeyOptionsValidator> logger)
    : IValidateOptions<ApiKeyOptions>
{
    private static readonly string[] KnownRoles = [ApiRoles.Ingest, ApiRoles.Read, ApiRoles.Admin];

    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var problems = Problems(options, requiredRoles);
        if (problems.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        logger.LogError("API key settings rejected; the keys already in force stay in force: {Problems}", string.Join(" ", problems));
        return ValidateOptionsResult.Fail(problems);
    }

    public static List<string> Problems(ApiKeyOptions options, IReadOnlyCollection<string> requiredRoles)
    {
        var problems = new List<string>();
        var plainNames = options.PlainEntries().Select(e => e.Name).ToHashSet();
        foreach (var (name, key) in options.Keys)
        {
            if (!NamePattern().IsMatch(name))
            {
                problems.Add($"ApiKeys:Keys:{name}: a key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
            }

            if (plainNames.Contains(name))
            {
                problems.Add($"ApiKeys:Keys:{name}: the name is taken by a plain key (ApiKeys:Ingest/Read/Admin are named ingest, read, admin).");
            }

            if (!KnownRoles.Contains(key.Role?.Trim().ToLowerInvariant()))
            {
                problems.Add($"ApiKeys:Keys:{name}:Role must be one of {string.Join(", ", KnownRoles)}.");
            }

            if (!ApiKeyHash.TryParse(key.Hash, out _))
            {
                // Never echo the value: someone may have pasted the key itself.
                problems.Add($"ApiKeys:Keys:{name}:Hash must be the key's SHA-256 as 64 hex digits (scripts/hash-api-key.sh prints it).");
            }
        }

        var present = options.Entries().Select(e => e.Role).ToHashSet();
        var missing = requiredRoles.Where(r => !present.Contains(r)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"Missing API keys: this service needs keys for the roles [{string.Join(", ", requiredRoles)}] and has none for [{string.Join(", ", missing)}]. " +
                "Set ApiKeys__Ingest / ApiKeys__Read / ApiKeys__Admin (the AppHost passes its ingest-api-key, read-api-key and admin-api-key parameters), " +
                "or named keys under ApiKeys:Keys.");
        }

        return problems;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
