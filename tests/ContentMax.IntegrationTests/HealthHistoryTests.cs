using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace ContentMax.IntegrationTests;

// The health history stays bounded: old status changes are deleted, the API
// pages through the rest, and uptime is computed over every change, however
// many, without listing them.
[Collection(AppHostCollection.Name)]
public class HealthHistoryTests(AppHostFixture fixture)
{
    private readonly HttpClient _reader = fixture.Client("health-probe", AppHostFixture.ReadKey);

    [Fact]
    public async Task History_PagesNewestFirst_UptimeCountsEveryChange_AndOldChangesAreDeleted()
    {
        var check = "flapping-" + Guid.NewGuid().ToString("N")[..8];
        var now = DateTimeOffset.UtcNow;
        // 250 changes in the last 50 minutes, alternating, and one from 100 days ago
        // (its status unknown, so whether the trim has deleted it yet changes no uptime).
        var rows = Enumerable.Range(0, 250)
            .Select(i => (At: now.AddMinutes(-50).AddSeconds(i * 11), Status: i % 3 == 0 ? "unhealthy" : "healthy"))
            .ToList();
        await using var connection = await fixture.OpenDatabaseAsync();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO health_transitions (check_name, check_group, previous_status, status, changed_at, error)
            SELECT $1, 'external', 'unknown', s, t, NULL FROM unnest($2::text[], $3::timestamptz[]) AS x(s, t)
            """, connection))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = check });
            insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Status).Append("unknown").ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.At.UtcDateTime).Append(now.AddDays(-100).UtcDateTime).ToArray() });
            await insert.ExecuteNonQueryAsync();
        }

        var seen = new List<JsonNode>();
        string? cursor = null;
        JsonObject? first = null;
        var pages = 0;
        do
        {
            var page = (await _reader.GetFromJsonAsync<JsonObject>($"/api/health/history?period=1h&limit=100{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}"))!;
            first ??= page;
            pages++;
            Assert.InRange(page["transitions"]!.AsArray().Count, 0, 100);
            seen.AddRange(page["transitions"]!.AsArray().Where(t => t!["check"]!.GetValue<string>() == check)!);
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null && pages < 50);

        Assert.Equal(250, seen.Count);
        var times = seen.Select(t => t["changedAt"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
        Assert.True(pages >= 3, $"{pages} pages");

        // Uptime over all 250 changes, as HealthStatusRules.UptimePercent defines it.
        var from = first!["from"]!.GetValue<DateTimeOffset>();
        var to = first["to"]!.GetValue<DateTimeOffset>();
        double healthy = 0, known = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var seconds = ((i + 1 < rows.Count ? rows[i + 1].At : to) - rows[i].At).TotalSeconds;
            known += seconds;
            if (rows[i].Status == "healthy") healthy += seconds;
        }

        Assert.Equal(100 * healthy / known, first["uptime"]![check]!.GetValue<double>(), 1);

        using var tooMany = await _reader.GetAsync("/api/health/history?period=1h&limit=5000");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        using var badCursor = await _reader.GetAsync("/api/health/history?period=1h&cursor=nonsense");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);

        // Older than the retention (90 days): gone within a trim interval or two.
        await Eventually.UntilAsync(async () =>
        {
            await using var count = new NpgsqlCommand("SELECT count(*) FROM health_transitions WHERE check_name = $1 AND changed_at < now() - interval '90 days'", connection);
            count.Parameters.Add(new NpgsqlParameter { Value = check });
            return (long)(await count.ExecuteScalarAsync())!;
        }, n => n == 0, TimeSpan.FromSeconds(30), n => $"{n} transitions older than the retention remain");
    }
}
