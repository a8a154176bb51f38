using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Alerting.Slos;

public sealed record SloWindowCounts(TimeSpan Window, long Good, long Total);

// Keeps each SLO's good and total events per minute (slo_minutes) and answers
// sums over any window from them: a 30-day SLI is a sum of at most 43,200 rows
// rather than a scan of every raw point.
public sealed class SloTracker(NpgsqlDataSource dataSource)
{
    // Late points are recounted once a minute (RecountEvery); the cycles in
    // between recount only the current and the previous minute. A recount
    // reads the raw points of a minute again only when the minute rollups say
    // its metrics gained observations since it was last counted (source_count),
    // so each busy minute's raw points are read about once after they stop
    // arriving, not on every cycle of the lateness allowance; a late point
    // still counts within a minute.
    public static readonly TimeSpan RecountEvery = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Recent = TimeSpan.FromMinutes(1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _lastRecount = new(StringComparer.Ordinal);

    // The first count of an SLO backfills its window this much at a time, one
    // transaction per chunk, its progress saved in slo_progress.
    public static readonly TimeSpan BackfillChunk = TimeSpan.FromHours(6);

    // Recounts the minutes from where the counts are complete (less the
    // lateness allowance, or only the last minute between recounts) up to now.
    // An SLO whose counts lag its window (a new SLO: up to 30 days) is first
    // backfilled chunk by chunk; each chunk commits with its progress, so a
    // cycle that runs out of time (cancellation) loses at most one chunk.
    // `definedAt` is the definition's updated_at as it was read: a count whose
    // definition has changed since (or was deleted) writes nothing.
    public async Task UpdateAsync(SloDefinition slo, DateTimeOffset definedAt, DateTimeOffset now, TimeSpan lateness, CancellationToken cancellationToken)
    {
        if (_lastRecount.TryGetValue(slo.Id, out var recounted) && now - recounted < RecountEvery && now >= recounted)
        {
            lateness = Recent < lateness ? Recent : lateness;
        }
        else
        {
            _lastRecount[slo.Id] = now;
        }

        var windowStart = MinuteStart(now - slo.Window);
        DateTimeOffset countedTo;
        await using (var progress = dataSource.CreateCommand("SELECT counted_to FROM slo_progress WHERE slo_id = $1"))
        {
            progress.Parameters.Add(new NpgsqlParameter { Value = slo.Id });
            countedTo = await progress.ExecuteScalarAsync(cancellationToken) is DateTime at
                ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
                : windowStart;
        }

        if (countedTo < windowStart) countedTo = windowStart;
        while (countedTo + BackfillChunk < now - lateness)
        {
            var chunkEnd = countedTo + BackfillChunk;
            if (!await CountAsync(slo, definedAt, countedTo, chunkEnd, recount: false, cancellationToken)) return;
            countedTo = chunkEnd;
        }

        await CountAsync(slo, definedAt, MinuteStart(countedTo - lateness), now, recount: true, cancellationToken);
    }

    // Counts [from, to) into slo_minutes and records `to` as counted, in one
    // transaction. A backfill counts every point of the span. A recount counts
    // only the minutes whose metrics' observations in the minute rollups differ
    // from those it last counted (source_count), whole minutes at a time: the
    // rollup rows and the raw rows are written in one transaction and read here
    // in one statement, so the count and its source_count always agree.
    // Counts under a share lock on the definition's row, as it was read: a
    // change or delete (which clears the SLO's counts) waits for the count to
    // commit, and a count that finds the definition changed writes nothing and
    // returns false. Without it, a cycle still counting with the old
    // selectors could write its counts after the change cleared them.
    private async Task<bool> CountAsync(SloDefinition slo, DateTimeOffset definedAt, DateTimeOffset from, DateTimeOffset to, bool recount, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var current = new NpgsqlCommand("SELECT 1 FROM slos WHERE id = $1 AND updated_at = $2 FOR SHARE", connection, transaction))
        {
            current.Parameters.Add(new NpgsqlParameter { Value = slo.Id });
            current.Parameters.Add(new NpgsqlParameter { Value = definedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (await current.ExecuteScalarAsync(cancellationToken) is null) return false;
        }

        await using var command = new NpgsqlCommand { Connection = connection, Transaction = transaction };
        var id = SelectorSql.Add(command, slo.Id, NpgsqlDbType.Text);
        var start = SelectorSql.Add(command, from.UtcDateTime, NpgsqlDbType.TimestampTz);
        var end = SelectorSql.Add(command, to.UtcDateTime, NpgsqlDbType.TimestampTz);
        var total = SelectorSql.Where(slo.Total, command);
        var totalWeight = SelectorSql.Weight(slo.Total, command);
        var good = SelectorSql.Where(slo.Good, command);
        var goodWeight = SelectorSql.Weight(slo.Good, command);
        if (recount)
        {
            var names = SelectorSql.Add(command, new[] { slo.Total.Metric, slo.Good.Metric }.Distinct(StringComparer.Ordinal).ToArray(),
                NpgsqlDbType.Array | NpgsqlDbType.Text);
            command.CommandText = $"""
                WITH sources AS (
                    SELECT bucket, sum(count)::bigint AS n FROM metric_rollups_minute
                    WHERE name = ANY({names}) AND bucket >= {start} AND bucket < {end}
                    GROUP BY bucket
                ), changed AS (
                    SELECT s.bucket, s.n FROM sources s
                    LEFT JOIN slo_minutes m ON m.slo_id = {id} AND m.bucket = s.bucket
                    WHERE m.source_count IS DISTINCT FROM s.n
                )
                INSERT INTO slo_minutes (slo_id, bucket, good, total, source_count)
                SELECT {id}, c.bucket, least(x.good, x.total), x.total, c.n
                FROM changed c CROSS JOIN LATERAL (
                    SELECT coalesce(sum({totalWeight}) FILTER (WHERE {total}), 0)::bigint AS total,
                           coalesce(sum({goodWeight}) FILTER (WHERE {good}), 0)::bigint AS good
                    FROM metrics WHERE ts >= c.bucket AND ts < c.bucket + interval '1 minute' AND name = ANY({names})
                ) x
                ON CONFLICT (slo_id, bucket) DO UPDATE SET good = excluded.good, total = excluded.total, source_count = excluded.source_count
                """;
        }
        else
        {
            command.CommandText = $"""
                INSERT INTO slo_minutes (slo_id, bucket, good, total)
                SELECT {id}, coalesce(t.bucket, g.bucket), least(coalesce(g.n, 0), coalesce(t.n, 0)), coalesce(t.n, 0)
                FROM (SELECT date_trunc('minute', ts) AS bucket, sum({totalWeight}) AS n FROM metrics WHERE ts >= {start} AND ts < {end} AND {total} GROUP BY 1) t
                FULL JOIN (SELECT date_trunc('minute', ts) AS bucket, sum({goodWeight}) AS n FROM metrics WHERE ts >= {start} AND ts < {end} AND {good} GROUP BY 1) g
                    ON g.bucket = t.bucket
                ON CONFLICT (slo_id, bucket) DO UPDATE SET good = excluded.good, total = excluded.total, source_count = NULL
                """;
        }

        await command.ExecuteNonQueryAsync(cancellationToken);

        await using var progress = new NpgsqlCommand("""
            INSERT INTO slo_progress (slo_id, counted_to) VALUES ($1, $2)
            ON CONFLICT (slo_id) DO UPDATE SET counted_to = greatest(slo_progress.counted_to, excluded.counted_to)
            """, connection, transaction);
        progress.Parameters.Add(new NpgsqlParameter { Value = slo.Id });
        progress.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await progress.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    // Good and total events over each window ending now.
    public async Task<List<SloWindowCounts>> CountsAsync(string sloId, DateTimeOffset now, IReadOnlyList<TimeSpan> windows, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT w.i, coalesce(sum(m.good), 0)::bigint, coalesce(sum(m.total), 0)::bigint
            FROM unnest($2::timestamptz[]) WITH ORDINALITY AS w(start, i)
            LEFT JOIN slo_minutes m ON m.slo_id = $1 AND m.bucket >= w.start AND m.bucket <= $3
            GROUP BY w.i
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = sloId });
        command.Parameters.Add(new NpgsqlParameter { Value = windows.Select(w => MinuteStart(now - w).UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
        var counts = new SloWindowCounts[windows.Count];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var i = (int)reader.GetInt64(0) - 1;
            counts[i] = new SloWindowCounts(windows[i], reader.GetInt64(1), reader.GetInt64(2));
        }

        return [.. counts];
    }

    // The error budget left over the SLO's window as it stood at each step: the
    // chart of how the budget was spent.
    public async Task<List<BudgetPoint>> BudgetSeriesAsync(SloDefinition slo, DateTimeOffset now, int points, CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromMinutes(Math.Max(1, Math.Ceiling(slo.Window.TotalMinutes / points)));
        var from = MinuteStart(now - slo.Window);
        await using var command = dataSource.CreateCommand("""
            SELECT date_bin($3::interval, bucket, $2) AS step, sum(good)::bigint, sum(total)::bigint
            FROM slo_minutes WHERE slo_id = $1 AND bucket >= $2 AND bucket <= $4
            GROUP BY 1 ORDER BY 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = slo.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = step });
        command.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
        var steps = new List<(DateTimeOffset At, long Good, long Total)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            steps.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1), reader.GetInt64(2)));
        }

        return Budget(steps, from, step, now, slo.ObjectiveFraction);
    }

    // Cumulative from the window's start: each point is the budget left had the
    // window ended at the end of that step. Steps without events repeat the last value.
    public static List<BudgetPoint> Budget(IReadOnlyList<(DateTimeOffset At, long Good, long Total)> steps, DateTimeOffset from, TimeSpan step, DateTimeOffset now, double objective)
    {
        var byStart = steps.ToDictionary(s => s.At, s => (s.Good, s.Total));
        var points = new List<BudgetPoint>();
        long good = 0, total = 0;
        for (var at = from; at <= now; at += step)
        {
            if (byStart.TryGetValue(at, out var counts))
            {
                good += counts.Good;
                total += counts.Total;
            }

            var end = at + step < now ? at + step : now;
            points.Add(new BudgetPoint(end, BurnRate.BudgetRemaining(good, total, objective), BurnRate.Sli(good, total), total));
        }

        return points;
    }

    private static DateTimeOffset MinuteStart(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
}
