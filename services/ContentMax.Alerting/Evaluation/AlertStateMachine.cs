namespace ContentMax.Alerting.Evaluation;

public enum AlertState
{
    Inactive,
    Pending,
    Firing,
    Resolved,
}

public enum NotificationKind
{
    Firing,
    Repeat,
    Resolved,
}

// What the evaluator remembers about one rule between evaluations (and across
// restarts: it is stored in Postgres).
public sealed record AlertStatus(
    AlertState State,
    DateTimeOffset? ActiveSince = null,
    DateTimeOffset? LastTrueAt = null,
    DateTimeOffset? LastNotifiedAt = null,
    bool FiringNotified = false)
{
    public static readonly AlertStatus Initial = new(AlertState.Inactive);
}

public sealed record AlertTiming(TimeSpan For, TimeSpan KeepFiringFor, TimeSpan RepeatInterval);

// The life of an alert, one evaluation at a time:
//   inactive → pending (condition true) → firing (still true after `for`)
//   → resolved (false for longer than `keep_firing_for`) → inactive.
// Exactly one notification on firing and one on resolve, a repeat every
// RepeatInterval while it keeps firing, and nothing while silenced: an alert
// that started firing under a silence notifies when the silence ends, and one
// whose firing was never notified resolves quietly.
public static class AlertStateMachine
{
    public static (AlertStatus Status, NotificationKind? Notify) Next(AlertStatus current, bool conditionTrue, DateTimeOffset now, AlertTiming timing, bool silenced)
    {
        var lastTrue = conditionTrue ? now : current.LastTrueAt;
        switch (current.State)
        {
            case AlertState.Inactive or AlertState.Resolved when conditionTrue:
                var pending = current with { State = AlertState.Pending, ActiveSince = now, LastTrueAt = now, FiringNotified = false };
                return timing.For <= TimeSpan.Zero ? Fire(pending, now, silenced) : (pending, null);

            case AlertState.Inactive or AlertState.Resolved:
                return (current with { State = AlertState.Inactive }, null);

            case AlertState.Pending when conditionTrue:
                var stillPending = current with { LastTrueAt = lastTrue };
                return now - current.ActiveSince!.Value >= timing.For ? Fire(stillPending, now, silenced) : (stillPending, null);

            case AlertState.Pending:
                return (AlertStatus.Initial, null);

            case AlertState.Firing when conditionTrue || now - current.LastTrueAt!.Value < timing.KeepFiringFor:
                var firing = current with { LastTrueAt = lastTrue };
                if (silenced) return (firing, null);
                if (!firing.FiringNotified) return (firing with { FiringNotified = true, LastNotifiedAt = now }, NotificationKind.Firing);
                return now - firing.LastNotifiedAt!.Value >= timing.RepeatInterval
                    ? (firing with { LastNotifiedAt = now }, NotificationKind.Repeat)
                    : (firing, null);

            default: // Firing, and false for longer than keep_firing_for.
                var resolved = current with { State = AlertState.Resolved, LastTrueAt = lastTrue };
                return current.FiringNotified && !silenced
                    ? (resolved with { LastNotifiedAt = now }, NotificationKind.Resolved)
                    : (resolved, null);
        }
    }

    private static (AlertStatus, NotificationKind?) Fire(AlertStatus status, DateTimeOffset now, bool silenced) =>
        silenced
            ? (status with { State = AlertState.Firing, FiringNotified = false }, null)
            : (status with { State = AlertState.Firing, FiringNotified = true, LastNotifiedAt = now }, NotificationKind.Firing);
}
