using System.Net;
using System.Net.Http.Json;
using ContentMax.Alerting.Rules;
using ContentMax.Alerting.Slos;
using Npgsql;

namespace ContentMax.IntegrationTests;

// The SLO counter (SloTracker) run directly on the shared database, for a
// disabled SLO the services' evaluator leaves alone: counting with a
// definition that has changed since it was read writes nothing, so a cycle
// still counting with old selectors cannot undo what a change cleared.
[Collection(AppHostCollection.Name)]
public class SloTrackerTests(AppHostFixture fixture)
{
    [Fact]
    public async Task ACountWithADefinitionThatHasSinceChanged_WritesNothing_AndTheCurrentOneCounts()
    {
        using var admin = fixture.Client("aggregation", AppHostFixture.AdminKey);
        using var reader = fixture.Client("aggregation", AppHostFixture.ReadKey);
        using var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        var id = "tracker-" + Guid.NewGuid().ToString("N")[..10];
        var metric = MetricsApi.UniqueName();
        var slo = new SloDefinition
        {
            Id = id, Name = "Tracker test", Enabled = false, Objective = 99, Window = TimeSpan.FromDays(1),
            Good = new MetricSelector { Metric = metric, Where = [new ValueFilter { Tag = "status", Op = "<", Value = 500 }] },
            Total = new MetricSelector { Metric = metric },
        };
        var put = await admin.PutAsJsonAsync($"/api/slos/{id}", new
        {
            name = slo.Name, enabled = false, objective = slo.Objective, window = "1d",
            good = new { metric, where = new[] { new { tag = "status", op = "<", value = 500 } } },
            total = new { metric },
        });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var requests = Enumerable.Range(0, 10).Select(i => new { metric, value = 1, tags = new Dictionary<string, string> { ["status"] = i < 3 ? "503" : "200" } }).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(requests)).StatusCode);
        await reader.WaitForCountAsync(metric, requests.Length);

        await using var dataSource = NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));
        DateTimeOffset definedAt;
        await using (var command = dataSource.CreateCommand("SELECT updated_at FROM slos WHERE id = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            definedAt = new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync())!);
        }

        async Task<(long Rows, long Good, long Total, bool Progress)> CountsAsync()
        {
            await using var command = dataSource.CreateCommand("""
                SELECT count(*), coalesce(sum(good), 0)::bigint, coalesce(sum(total), 0)::bigint,
                       EXISTS (SELECT 1 FROM slo_progress WHERE slo_id = $1)
                FROM slo_minutes WHERE slo_id = $1
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            await using var row = await command.ExecuteReaderAsync();
            await row.ReadAsync();
            return (row.GetInt64(0), row.GetInt64(1), row.GetInt64(2), row.GetBoolean(3));
        }

        var tracker = new SloTracker(dataSource);
        var now = DateTimeOffset.UtcNow.AddSeconds(1);
        await tracker.UpdateAsync(slo, definedAt.AddMilliseconds(-1), now, TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Equal((0L, 0L, 0L, false), await CountsAsync());

        await tracker.UpdateAsync(slo, definedAt, now, TimeSpan.FromMinutes(5), CancellationToken.None);
        var counted = await CountsAsync();
        Assert.Equal((7L, 10L, true), (counted.Good, counted.Total, counted.Progress));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/slos/{id}")).StatusCode);
        await tracker.UpdateAsync(slo, definedAt, now.AddSeconds(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Equal((0L, 0L, 0L, false), await CountsAsync());
    }
}
