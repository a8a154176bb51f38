using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;

namespace ContentMax.Dashboard.Admin;

// The key each signed-in operator presented, held in this process's memory
// only (never in the cookie, never sent back to the browser), so that what an
// operator changes from the dashboard is done with their own key: aggregation
// checks its role and records its name as who did it. The dashboard itself
// holds no admin key. An entry lives as long as its session may (the session
// lifetime) and goes at sign-out; after a dashboard restart the operator signs
// in again to act, while reading goes on with the dashboard's read key.
public sealed class OperatorKeys(TimeProvider time)
{
    public const string SessionClaim = "contentmax:session";

    private readonly ConcurrentDictionary<string, (string Key, DateTimeOffset Until)> _keys = new(StringComparer.Ordinal);

    // A new session id, under which the key is kept until `lifetime` has passed.
    public string Hold(string key, TimeSpan lifetime)
    {
        Sweep();
        var session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _keys[session] = (key, time.GetUtcNow() + lifetime);
        return session;
    }

    public string? KeyOf(ClaimsPrincipal? user)
    {
        var session = user?.FindFirst(SessionClaim)?.Value;
        if (session is null || !_keys.TryGetValue(session, out var held)) return null;
        if (held.Until > time.GetUtcNow()) return held.Key;
        Sweep();
        return null;
    }

    public void Release(ClaimsPrincipal? user)
    {
        if (user?.FindFirst(SessionClaim)?.Value is { } session) _keys.TryRemove(session, out _);
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (session, held) in _keys)
        {
            if (held.Until <= now) _keys.TryRemove(session, out _);
        }
    }
}
