using System.Collections.Concurrent;
using ContentMax.HealthProbe.Checks;

namespace ContentMax.HealthProbe;

// The latest result of every check. The endpoints read only this, so answering
// /api/health never waits on a dependency.
public sealed class HealthState(ProbeCatalog catalog, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CheckState> _states =
        new(catalog.Checks.Select(c => KeyValuePair.Create(c.Name, CheckState.Unknown(c.Name, c.Group))), StringComparer.Ordinal);

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public IReadOnlyList<CheckState> All => _states.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();

    public CheckState Get(string name) => _states[name];

    public void Set(CheckState state) => _states[state.Name] = state;
}
