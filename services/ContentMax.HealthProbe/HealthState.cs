using System.Collections.Concurrent;
using ContentMax.HealthProbe.Checks;

namespace ContentMax.HealthProbe;

// The latest result of every check. The endpoints read only this, so answering
// /api/health never waits on a dependency.
public sealed class HealthState(ProbeCatalog catalog, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CheckState> _states =
        new(catalog.Checks.Select(c => KeyValuePair.Create(c.Name, CheckState.Unknown(c.Name, c.Group))));

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public IReadOnlyCollection<CheckState> All => _states.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();

    public CheckState Get(string name) => _states[name];

    public void Set(CheckState state) => _states[state.Name] = state;

    public IReadOnlyDictionary<string, string> Groups()
    {
        var groups = All.GroupBy(s => s.Group).ToDictionary(g => g.Key, g => HealthStatusRules.GroupStatus(g.ToList()));
        foreach (var group in new[] { CheckGroups.Database, CheckGroups.Cache, CheckGroups.Messaging, CheckGroups.Services, CheckGroups.External })
        {
            groups.TryAdd(group, HealthStatus.Unknown);
        }

        return groups;
    }
}
