using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults.ApiKeys;

// The keys in force, as SHA-256 hashes with their names and roles. A settings
// reload (the keys file, or any reloadable source) swaps the whole set at once,
// so a key is added or revoked without a restart.
//
// A presented key is hashed and looked up by its hash: one SHA-256 and one
// dictionary probe, whatever the number of keys, and the identity (name,
// roles) is built once per key, not per request. Comparing hashes rather than
// keys means timing can say nothing about how close a guess is to a real key:
// it would have to be close to its SHA-256.
//
// A key found that way is remembered, so its next requests skip the SHA-256
// (about 1 µs with its interop, of a single-metric POST's few tens): looked up
// by the process's randomised string hash, then compared in constant time.
// Only keys in force are remembered, so guesses cannot grow it, and a reload
// forgets them all with the index they were found in. Remembered keys stay in
// the process's memory as presented, as every request's headers are for a while.
public sealed class ApiKeyRing : IDisposable
{
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private volatile ApiKeyEntry[] _entries;
    private volatile KeyIndex _index;

    public ApiKeyRing(IOptionsMonitor<ApiKeyOptions> options, ILogger<ApiKeyRing>? logger = null)
    {
        _logger = logger ?? NullLogger<ApiKeyRing>.Instance;
        _entries = [.. options.CurrentValue.Entries()];
        _index = new KeyIndex(Index(_entries));
        _subscription = options.OnChange(Reload);
    }

    public IReadOnlyCollection<string> Roles => _entries.Select(e => e.Role).Distinct().ToArray();

    public IReadOnlyCollection<string> Names => _entries.Select(e => e.Name).ToArray();

    public List<string> RolesFor(string presented) => Find(presented)?.Roles ?? [];

    // The key's name and roles, or null for an unknown key. An admin key can also read.
    public ApiKeyIdentity? Find(string presented)
    {
        var index = _index;
        var slot = presented.GetHashCode();
        if (index.Recent.TryGetValue(slot, out var recent)
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(recent.Key.AsSpan()), MemoryMarshal.AsBytes(presented.AsSpan())))
        {
            return recent.Identity;
        }

        var identity = FindByHash(index.ByHash, presented);
        if (identity is not null && index.Recent.Count < KeyIndex.MaxRecent)
        {
            index.Recent[slot] = new RecentKey(presented, identity);
        }

        return identity;
    }

    private static ApiKeyIdentity? FindByHash(FrozenDictionary<string, ApiKeyIdentity> byHash, string presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetByteCount(presented);
        var utf8 = bytes <= 256 ? stackalloc byte[bytes] : new byte[bytes];
        Encoding.UTF8.GetBytes(presented, utf8);
        SHA256.HashData(utf8, hash);
        Span<char> hex = stackalloc char[SHA256.HashSizeInBytes * 2];
        Convert.TryToHexStringLower(hash, hex, out _);
        return byHash.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(hex, out var identity) ? identity : null;
    }

    // A short fingerprint of a key (the start of its SHA-256): enough to tell
    // whether the key a session signed in with is still the one in force under
    // its name, nothing a key could be recovered from.
    public static string Fingerprint(string presented) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(presented)))[..16];

    // Whether a key of this name and fingerprint is still in force (not revoked, not rotated).
    public bool Holds(string name, string fingerprint) =>
        _entries.Any(e => e.Name == name && Convert.ToHexStringLower(e.Hash).StartsWith(fingerprint, StringComparison.Ordinal));

    // One identity per key hash: the first name configured for it, and every
    // role any entry with that hash gives it.
    private static FrozenDictionary<string, ApiKeyIdentity> Index(ApiKeyEntry[] entries) =>
        entries
            .GroupBy(e => Convert.ToHexStringLower(e.Hash), StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g =>
            {
                var roles = g.Select(e => e.Role).Distinct().ToList();
                if (roles.Contains(ApiRoles.Admin) && !roles.Contains(ApiRoles.Read)) roles.Add(ApiRoles.Read);
                return new ApiKeyIdentity(g.First().Name, roles);
            }, StringComparer.Ordinal);

    private void Reload(ApiKeyOptions options)
    {
        var entries = options.Entries().ToArray();
        var before = _entries.Select(e => e.Name).ToHashSet();
        var after = entries.Select(e => e.Name).ToHashSet();
        _index = new KeyIndex(Index(entries));
        _entries = entries;
        _logger.LogInformation("API keys reloaded: {Count} in force; added [{Added}], removed [{Removed}].",
            entries.Length, string.Join(", ", after.Except(before)), string.Join(", ", before.Except(after)));
    }

    public void Dispose() => _subscription?.Dispose();

    // The keys in force by hash, and the ones recently presented, by their string hash.
    private sealed class KeyIndex(FrozenDictionary<string, ApiKeyIdentity> byHash)
    {
        // Far more keys than an installation configures; past it, keys are only hashed.
        public const int MaxRecent = 4096;

        public FrozenDictionary<string, ApiKeyIdentity> ByHash { get; } = byHash;

        public ConcurrentDictionary<int, RecentKey> Recent { get; } = new();
    }

    private sealed record RecentKey(string Key, ApiKeyIdentity Identity);
}

// Who presented a key: its configured name (never the key) and its roles, the
// first being the role it was configured with. The claims a request carries
// for it are built once.
public sealed record ApiKeyIdentity(string Name, List<string> Roles)
{
    public string Role => Roles[0];

    public System.Security.Claims.Claim[] Claims { get; } =
    [
        .. Roles.Select(r => new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, r)),
        new(System.Security.Claims.ClaimTypes.Name, Name),
        new(ApiKeyClaims.KeyName, Name),
        new(ApiKeyClaims.KeyRole, Roles[0]),
    ];

    // The principal of a request that presents the key in a header, built once
    // and shared by all of them: nothing in ContentMax changes a request's
    // principal, and building it per request cloned every claim.
    public System.Security.Claims.ClaimsPrincipal Principal => field ??=
        new(new System.Security.Claims.ClaimsIdentity(Claims, ApiKeyAuthenticationHandler.SchemeName));
}
