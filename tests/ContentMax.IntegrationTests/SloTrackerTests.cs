using System.Net;
using System.Net.Http.Json;
using ContentMax.Alerting.Api;
using ContentMax.Alerting.Rules;
using ContentMax.Alerting.Slos;
using ContentMax.Schema;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ContentMax.IntegrationTests;

// SLO counts and the definitions they belong to: the SLO counter
// (SloTracker) run directly, and the seeding of SLO definitions.
[Collection(AppHostCollection.Name)]
public class SloTrackerTests(AppHostFixture fixture)
{
    // The seed file changing an SLO clears its counts, as a PUT does; seeding
    // it unchanged leaves them. On a database of its own: seeding drops the
    // seeded rows the file no longer has.
    [Fact]
    public async Task ASeedFileThatChangesAnSlo_ClearsItsCounts_AndAnUnchangedOneKeepsThem()
    {
        await using var server = await PrivateDatabase.CreateAsync(fixture, "seed_");
        await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None);
        await using var data = NpgsqlDataSource.Create(server.ConnectionString);
        var store = new RuleStore(data);
        SloDefinition Slo(double objective) => new()
        {
            Id = "seeded", Name = "Seeded", Objective = objective,
            Good = new MetricSelector { Metric = "requests", Where = [new ValueFilter { Tag = "status", Op = "<", Value = 500 }] },
            Total = new MetricSelector { Metric = "requests" },
        };

        async Task<long> CountsAsync()
        {
            await using var command = data.CreateCommand(
                "SELECT (SELECT count(*) FROM slo_minutes WHERE slo_id = 'seeded') + (SELECT count(*) FROM slo_progress WHERE slo_id = 'seeded')");
            return (long)(await command.ExecuteScalarAsync())!;
        }

        async Task CountedAsync()
        {
            await using var command = data.CreateCommand("""
                INSERT INTO slo_minutes (slo_id, bucket, good, total, source_count) VALUES ('seeded', date_trunc('minute', now()), 9, 10, 10);
                INSERT INTO slo_progress (slo_id, counted_to) VALUES ('seeded', now());
                """);
            await command.ExecuteNonQueryAsync();
        }

        await store.SeedAsync(new AlertingSeed { Slos = [Slo(99)] }, CancellationToken.None);
        await CountedAsync();
        await store.SeedAsync(new AlertingSeed { Slos = [Slo(99)] }, CancellationToken.None);
        Assert.Equal(2, await CountsAsync());

        await store.SeedAsync(new AlertingSeed { Slos = [Slo(99.9)] }, CancellationToken.None);
        Assert.Equal(0, await CountsAsync());
    }

    // For a disabled SLO, which the services' evaluator leaves alone: counting
    // with a definition that has changed since it was read writes nothing, so
    // a cycle still counting with old selectors cannot undo what a change cleared.
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
