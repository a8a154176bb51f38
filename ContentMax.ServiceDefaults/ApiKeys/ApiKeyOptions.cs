namespace ContentMax.ServiceDefaults.ApiKeys;

// The API keys a service accepts, from configuration section ApiKeys:
//
//   ApiKeys:Ingest / Read / Admin   plain keys (comma-separated for several), as the
//                                   AppHost passes its parameters; named "ingest",
//                                   "ingest-2", ... "read", "admin".
//   ApiKeys:Keys:{name}:Role        named keys, stored only as the SHA-256 hex of the
//   ApiKeys:Keys:{name}:Hash        key (scripts/hash-api-key.sh prints it). The name is
//                                   what logs, traces and rate limits see; never the key.
//   ApiKeys:KeysFile                a JSON settings file, reloaded when it changes, so
//                                   keys can be added and revoked without a restart.
public sealed class ApiKeyOptions
{
    public const string SectionName = "ApiKeys";

    public string? Ingest { get; set; }
    public string? Read { get; set; }
    public string? Admin { get; set; }

    public Dictionary<string, NamedApiKey> Keys { get; set; } = new(StringComparer.Ordinal);

    public string? KeysFile { get; set; }

    // Every configured key with its name and role; plain keys are hashed here.
    internal IEnumerable<ApiKeyEntry> Entries() => PlainEntries().Concat(NamedEntries());

    internal IEnumerable<ApiKeyEntry> PlainEntries()
    {
        foreach (var (role, value) in new[] { (ApiRoles.Ingest, Ingest), (ApiRoles.Read, Read), (ApiRoles.Admin, Admin) })
        {
            var keys = (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < keys.Length; i++)
            {
                yield return new ApiKeyEntry(i == 0 ? role : $"{role}-{i + 1}", role, ApiKeyHash.Of(keys[i]));
            }
        }
    }

    private IEnumerable<ApiKeyEntry> NamedEntries()
    {
        foreach (var (name, key) in Keys)
        {
            if (key.Role is { } role && ApiKeyHash.TryParse(key.Hash, out var hash))
            {
                yield return new ApiKeyEntry(name, role.Trim().ToLowerInvariant(), hash);
            }
        }
    }
}

public sealed class NamedApiKey
{
    // ingest, read or admin.
    public string? Role { get; set; }

    // SHA-256 of the key's UTF-8 bytes, as 64 hex digits.
    public string? Hash { get; set; }
}

internal sealed record ApiKeyEntry(string Name, string Role, byte[] Hash);
