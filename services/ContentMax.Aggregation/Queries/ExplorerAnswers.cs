using ContentMax.Contracts.Http;

namespace ContentMax.Aggregation.Queries;

// Turns the explorer's cells of observations into answers: the ungrouped
// buckets, the ranked series with "other", or the ranked breakdown groups.
public static class ExplorerAnswers
{
    public static (List<SeriesBucket> Buckets, List<ExplorerSeries> Series) Series(
        Dictionary<(string Group, DateTime Start), GroupObservations> cells, ExplorerQuery query, DateTime from, DateTime to, TimeSpan step, int exactLimit)
    {
        var origin = DateTime.UnixEpoch;
        var starts = new List<DateTime>();
        var first = new DateTime(from.Ticks - (from.Ticks - origin.Ticks) % step.Ticks, DateTimeKind.Utc);
        for (var t = first; t < to; t += step) starts.Add(t);

        var byGroup = cells.GroupBy(c => c.Key.Group, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToDictionary(c => c.Key.Start, c => c.Value), StringComparer.Ordinal);
        var totals = byGroup.ToDictionary(g => g.Key, g => ExplorerGroups.MergeAll(g.Value.Values, exactLimit), StringComparer.Ordinal);

        // Every step in the period appears, empty ones with a zero count, so a chart shows gaps as gaps.
        var buckets = new List<SeriesBucket>(starts.Count);
        foreach (var start in starts)
        {
            var all = ExplorerGroups.MergeAll(byGroup.Values.Select(g => g.GetValueOrDefault(start)).OfType<GroupObservations>(), exactLimit);
            var a = all.ToAggregate();
            buckets.Add(a is null ? new SeriesBucket(start, 0, null, null, null, null) : new SeriesBucket(start, a.Count, a.Average, a.Min, a.Max, a.P95));
        }

        var series = new List<ExplorerSeries>();
        if (query.GroupBy.Count == 0)
        {
            var cellsByStart = byGroup.GetValueOrDefault("[]") ?? [];
            var total = totals.GetValueOrDefault("[]");
            series.Add(Entry([], ExplorerGroups.AllLabel, false, total, cellsByStart));
            return (buckets, series);
        }

        var (top, rest) = ExplorerGroups.Rank(totals, query.Aggregation, query.Limit);
        foreach (var key in top)
        {
            var values = ExplorerGroups.ValuesOf(key);
            series.Add(Entry(ExplorerGroups.GroupOf(query.GroupBy, values), ExplorerGroups.LabelOf(query.GroupBy, values), false, totals[key], byGroup[key]));
        }

        if (rest.Count > 0)
        {
            var otherCells = new Dictionary<DateTime, GroupObservations>();
            foreach (var start in starts)
            {
                otherCells[start] = ExplorerGroups.MergeAll(rest.Select(k => byGroup[k].GetValueOrDefault(start)).OfType<GroupObservations>(), exactLimit);
            }

            series.Add(Entry([], ExplorerGroups.OtherLabel, true, ExplorerGroups.MergeAll(rest.Select(k => totals[k]), exactLimit), otherCells));
        }

        return (buckets, series);

        ExplorerSeries Entry(Dictionary<string, string> group, string label, bool other, GroupObservations? total, Dictionary<DateTime, GroupObservations> byStart)
        {
            var points = starts.Select(start =>
            {
                var aggregate = byStart.GetValueOrDefault(start)?.ToAggregate();
                return new ExplorerPoint(start, aggregate?.Count ?? 0, ExplorerQuery.Pick(aggregate, query.Aggregation));
            }).ToList();
            var whole = total?.ToAggregate();
            return new ExplorerSeries(group, label, other, ExplorerQuery.Pick(whole, query.Aggregation), whole?.Count ?? 0, points);
        }
    }

    public static List<ExplorerGroup> Breakdown(Dictionary<(string Group, DateTime Start), GroupObservations> cells, ExplorerQuery query, int exactLimit)
    {
        var totals = cells.GroupBy(c => c.Key.Group, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => ExplorerGroups.MergeAll(g.Select(c => c.Value), exactLimit), StringComparer.Ordinal);
        var (top, rest) = ExplorerGroups.Rank(totals, query.Aggregation, query.Limit);
        var groups = new List<ExplorerGroup>();
        foreach (var key in top)
        {
            if (totals[key].ToAggregate() is not { } aggregate) continue;
            var values = ExplorerGroups.ValuesOf(key);
            groups.Add(new ExplorerGroup(ExplorerGroups.GroupOf(query.GroupBy, values), ExplorerGroups.LabelOf(query.GroupBy, values), false, aggregate));
        }

        if (rest.Count > 0 && ExplorerGroups.MergeAll(rest.Select(k => totals[k]), exactLimit).ToAggregate() is { } other)
        {
            groups.Add(new ExplorerGroup([], ExplorerGroups.OtherLabel, true, other));
        }

        return groups;
    }
}
