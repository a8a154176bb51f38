using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults;

// The keys in force, as SHA-256 hashes with their names and roles. A settings
// reload (the keys file, or any reloadable source) swaps the whole set at once,
// so a key is added or revoked without a restart.
public sealed class ApiKeyRing : IDisposable
{
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private volatile ApiKeyEntry[] _entries;

    public ApiKeyRing(IOptionsMonitor<ApiKeyOptions> options, ILogger<ApiKeyRing>? logger = null)
    {
        _logger = logger ?? NullLogger<ApiKeyRing>.Instance;
        _entries = [.. options.CurrentValue.Entries()];
        _subscription = options.OnChange(Reload);
    }

    public IReadOnlyCollection<string> Roles => _entries.Select(e => e.Role).Distinct().ToArray();

    public IReadOnlyCollection<string> Names => _entries.Select(e => e.Name).ToArray();

    public List<string> RolesFor(string presented) => Find(presented)?.Roles ?? [];

    // The key's name and roles, or null for an unknown key. An admin key can also read.
    public ApiKeyIdentity? Find(string presented)
    {
        var hash = ApiKeyHash.Of(presented);
        string? name = null;
        var roles = new List<string>(2);
        // Every entry is compared, matched or not, so timing says nothing about which key is close.
        foreach (var entry in _entries)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, entry.Hash))
            {
                name ??= entry.Name;
                if (!roles.Contains(entry.Role)) roles.Add(entry.Role);
            }
        }

        if (name is null)
        {
            return null;
        }

        if (roles.Contains(ApiRoles.Admin) && !roles.Contains(ApiRoles.Read))
        {
            roles.Add(ApiRoles.Read);
        }

        return new ApiKeyIdentity(name, roles);
    }

    private void Reload(ApiKeyOptions options)
    {
        var entries = options.Entries().ToArray();
        var before = _entries.Select(e => e.Name).ToHashSet();
        var after = entries.Select(e => e.Name).ToHashSet();
        _entries = entries;
        _logger.LogInformation("API keys reloaded: {Count} in force; added [{Added}], removed [{Removed}].",
            entries.Length, string.Join(", ", after.Except(before)), string.Join(", ", before.Except(after)));
    }

    public void Dispose() => _subscription?.Dispose();
}

// Who presented a key: its configured name (never the key) and its roles, the
// first being the role it was configured with.
public sealed record ApiKeyIdentity(string Name, List<string> Roles)
{
    public string Role => Roles[0];
}
