using ContentMax.Alerting.Evaluation;

namespace ContentMax.UnitTests.Alerting;

public class AlertStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly AlertTiming Timing = new(For: TimeSpan.FromMinutes(2), KeepFiringFor: TimeSpan.FromMinutes(5), RepeatInterval: TimeSpan.FromHours(4));

    // Runs a sequence of (minute offset, condition) evaluations and returns the notifications.
    private static (AlertStatus Status, List<(int Minute, NotificationKind Kind)> Sent) Run(
        IEnumerable<(int Minute, bool Condition)> steps, AlertTiming? timing = null, Func<int, bool>? silencedAt = null)
    {
        var status = AlertStatus.Initial;
        var sent = new List<(int, NotificationKind)>();
        foreach (var (minute, condition) in steps)
        {
            var (next, notify) = AlertStateMachine.Next(status, condition, T0.AddMinutes(minute), timing ?? Timing, silencedAt?.Invoke(minute) ?? false);
            status = next;
            if (notify is { } kind) sent.Add((minute, kind));
        }

        return (status, sent);
    }

    [Fact]
    public void TrueShorterThanFor_StaysPending_AndNeverNotifies()
    {
        var (status, sent) = Run([(0, true), (1, true), (2, false)]);
        Assert.Equal(AlertState.Inactive, status.State);
        Assert.Empty(sent);
    }

    [Fact]
    public void TrueForLongerThanFor_FiresOnce_ThenResolvesOnceAfterKeepFiringFor()
    {
        var steps = Enumerable.Range(0, 10).Select(m => (m, true)).Concat(Enumerable.Range(10, 10).Select(m => (m, false)));
        var (status, sent) = Run(steps);

        Assert.Equal([(2, NotificationKind.Firing), (14, NotificationKind.Resolved)], sent);
        Assert.Equal(AlertState.Inactive, status.State);
    }

    [Fact]
    public void FlappingInput_IsHeldByKeepFiringFor_SoOneFiringAndOneResolve()
    {
        // Firing from minute 2, then true every third minute until minute 30.
        var steps = Enumerable.Range(0, 3).Select(m => (m, true))
            .Concat(Enumerable.Range(3, 28).Select(m => (m, m % 3 == 0)))
            .Concat(Enumerable.Range(31, 10).Select(m => (m, false)));
        var (_, sent) = Run(steps);

        Assert.Equal([(2, NotificationKind.Firing), (35, NotificationKind.Resolved)], sent);
    }

    [Fact]
    public void StillFiring_RepeatsEveryRepeatInterval()
    {
        var timing = Timing with { RepeatInterval = TimeSpan.FromMinutes(60) };
        var (_, sent) = Run(Enumerable.Range(0, 200).Select(m => (m, true)), timing);

        Assert.Equal([(2, NotificationKind.Firing), (62, NotificationKind.Repeat), (122, NotificationKind.Repeat), (182, NotificationKind.Repeat)], sent);
    }

    [Fact]
    public void ZeroFor_FiresOnTheFirstTrueEvaluation()
    {
        var (status, sent) = Run([(0, true)], Timing with { For = TimeSpan.Zero });
        Assert.Equal(AlertState.Firing, status.State);
        Assert.Equal([(0, NotificationKind.Firing)], sent);
    }

    [Fact]
    public void Silenced_SendsNothing_AndNotifiesWhenTheSilenceEnds()
    {
        var (_, sent) = Run(Enumerable.Range(0, 20).Select(m => (m, true)), silencedAt: m => m < 10);
        Assert.Equal([(10, NotificationKind.Firing)], sent);
    }

    [Fact]
    public void FiringNeverNotifiedBecauseSilenced_ResolvesQuietly()
    {
        var steps = Enumerable.Range(0, 5).Select(m => (m, true)).Concat(Enumerable.Range(5, 10).Select(m => (m, false)));
        var (status, sent) = Run(steps, silencedAt: _ => true);
        Assert.Empty(sent);
        Assert.Equal(AlertState.Inactive, status.State);
    }

    [Fact]
    public void AfterResolving_ANewIncidentFiresAgain()
    {
        var steps = Enumerable.Range(0, 5).Select(m => (m, true))
            .Concat(Enumerable.Range(5, 10).Select(m => (m, false)))
            .Concat(Enumerable.Range(15, 5).Select(m => (m, true)));
        var (_, sent) = Run(steps);
        Assert.Equal([(2, NotificationKind.Firing), (9, NotificationKind.Resolved), (17, NotificationKind.Firing)], sent);
    }
}
