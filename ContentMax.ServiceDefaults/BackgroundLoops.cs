using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContentMax.ServiceDefaults;

// The rounds of this process's BackgroundLoops, and the "background-loops"
// health check over them (registered by AddServiceDefaults, shown on /health):
// Degraded when a loop's next round is overdue by more than twice its wait and
// at least StallGrace, that is when it stopped cycling (a hung round, a dead
// task). A loop that fails still cycles (with backoff): its last error is in
// the check's data, and the failure itself goes to the logs and Sentry.
public sealed class BackgroundLoops(TimeProvider time) : IHealthCheck
{
    public const string HealthCheckName = "background-loops";
    public static readonly TimeSpan StallGrace = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Round> _rounds = new(StringComparer.Ordinal);

    public void Cycled(string loop, TimeSpan wait, string? failure) => _rounds[loop] = new Round(time.GetUtcNow(), wait, failure);

    public void Ended(string loop) => _rounds.TryRemove(loop, out _);

    // The loops whose next round is overdue, with how long.
    public IReadOnlyDictionary<string, TimeSpan> Stalled()
    {
        var now = time.GetUtcNow();
        var stalled = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (loop, round) in _rounds)
        {
            var overdue = now - (round.At + round.Wait);
            if (overdue > TimeSpan.FromTicks(Math.Max(round.Wait.Ticks * 2, StallGrace.Ticks))) stalled[loop] = overdue;
        }

        return stalled;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = _rounds.Where(r => r.Value.Failure is not null).ToDictionary(r => r.Key, r => (object)r.Value.Failure!);
        var stalled = Stalled();
        return Task.FromResult(stalled.Count == 0
            ? HealthCheckResult.Healthy($"{_rounds.Count} background loops cycling.", data)
            : HealthCheckResult.Degraded(
                "Stopped cycling: " + string.Join(", ", stalled.Select(s => $"{s.Key} (next round {Duration.Format(s.Value)} overdue)")) + ".", data: data));
    }

    private sealed record Round(DateTimeOffset At, TimeSpan Wait, string? Failure);
}
