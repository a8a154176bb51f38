using System.Net;
using Npgsql;

namespace ContentMax.IntegrationTests;

// Raw points and rollups live in time partitions, created ahead of the clock
// and dropped whole once past retention.
[Collection(AppHostCollection.Name)]
public class PartitionTests(AppHostFixture fixture)
{
    private async Task<NpgsqlDataSource> DatabaseAsync() => NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));

    private static async Task<List<string>> ColumnAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var arg in args) command.Parameters.Add(new NpgsqlParameter { Value = arg });
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) values.Add(reader.GetValue(0).ToString()!);
        return values;
    }

    [Fact]
    public async Task PartitionsExistAhead_AndAPointLandsInItsDaysPartition()
    {
        await using var db = await DatabaseAsync();
        var today = DateTime.UtcNow.Date;
        var partitions = await ColumnAsync(db, """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent IN ('metrics'::regclass, 'metric_rollups_minute'::regclass, 'metric_rollups_hour'::regclass)
            """);
        for (var day = today; day <= today.AddDays(3); day = day.AddDays(1))
        {
            Assert.Contains($"metrics_p{day:yyyyMMdd}", partitions);
            Assert.Contains($"metric_rollups_minute_p{day:yyyyMMdd}", partitions);
        }

        Assert.Contains($"metrics_p{today.AddDays(-30):yyyyMMdd}", partitions);
        Assert.Contains($"metric_rollups_hour_p{today:yyyyMM}", partitions);

        var name = MetricsApi.UniqueName();
        using var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        using var aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(new { metric = name, value = 1 })).StatusCode);
        await aggregation.WaitForCountAsync(name, 1);
        var homes = await ColumnAsync(db, "SELECT tableoid::regclass::text FROM metrics WHERE name = $1", name);
        Assert.Equal([$"metrics_p{DateTime.UtcNow:yyyyMMdd}"], homes);
    }

    [Fact]
    public async Task PartitionsPastRetention_AreDroppedWhole()
    {
        await using var db = await DatabaseAsync();
        await using (var old = db.CreateCommand("""
            CREATE TABLE IF NOT EXISTS metrics_p20200101 PARTITION OF metrics FOR VALUES FROM ('2020-01-01 00:00Z') TO ('2020-01-02 00:00Z');
            INSERT INTO metrics (id, name, value, ts) VALUES (gen_random_uuid(), 'ancient', 1, '2020-01-01 12:00Z');
            CREATE TABLE IF NOT EXISTS metric_rollups_hour_p202001 PARTITION OF metric_rollups_hour FOR VALUES FROM ('2020-01-01 00:00Z') TO ('2020-02-01 00:00Z');
            """))
        {
            await old.ExecuteNonQueryAsync();
        }

        var actions = await ColumnAsync(db, "SELECT maintain_partitions(interval '30 days', interval '90 days', interval '730 days')");

        Assert.Contains("dropped metrics_p20200101", actions);
        Assert.Contains("dropped metric_rollups_hour_p202001", actions);
        Assert.Empty(await ColumnAsync(db, "SELECT to_regclass('metrics_p20200101')::text WHERE to_regclass('metrics_p20200101') IS NOT NULL"));
        Assert.DoesNotContain(actions, a => a.Contains($"_p{DateTime.UtcNow:yyyyMMdd}"));
    }

    // Raw partitions are append-only: autovacuum's insert-triggered passes are
    // off while a partition's day is open, and partition maintenance turns
    // them back on once it has ended, for one pass over the whole day.
    [Fact]
    public async Task RawPartitions_SkipInsertTriggeredVacuums_UntilTheirDayHasEnded()
    {
        await using var db = await DatabaseAsync();
        var today = DateTime.UtcNow.Date;
        var yesterday = $"metrics_p{today.AddDays(-1):yyyyMMdd}";
        const string Off = "autovacuum_vacuum_insert_threshold=-1";
        async Task<List<string>> OptionsAsync(string partition) =>
            await ColumnAsync(db, "SELECT unnest(reloptions) FROM pg_class WHERE relname = $1", partition);

        // As a partition created while its day was open is left.
        await using (var open = db.CreateCommand($"ALTER TABLE {yesterday} SET (autovacuum_vacuum_insert_threshold = -1)"))
        {
            await open.ExecuteNonQueryAsync();
        }

        var actions = await ColumnAsync(db, "SELECT maintain_partitions(interval '30 days', interval '90 days', interval '730 days')");

        Assert.Contains($"insert-triggered vacuum on, its day has ended: {yesterday}", actions);
        Assert.DoesNotContain(Off, await OptionsAsync(yesterday));
        Assert.DoesNotContain(Off, await OptionsAsync($"metrics_p{today.AddDays(-2):yyyyMMdd}"));
        for (var day = today; day <= today.AddDays(3); day = day.AddDays(1))
        {
            Assert.Contains(Off, await OptionsAsync($"metrics_p{day:yyyyMMdd}"));
        }

        // The rollup partitions, which upserts rewrite, keep autovacuum as it is.
        Assert.DoesNotContain(Off, await OptionsAsync($"metric_rollups_minute_p{today:yyyyMMdd}"));
        Assert.DoesNotContain(await ColumnAsync(db, "SELECT maintain_partitions(interval '30 days', interval '90 days', interval '730 days')"),
            a => a.StartsWith("insert-triggered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeduplicationRecords_OlderThanTheirWindow_AreDeleted_AndRecentOnesKept()
    {
        await using var db = await DatabaseAsync();
        Guid oldId = Guid.NewGuid(), recentId = Guid.NewGuid();
        foreach (var sql in new[]
                 {
                     "INSERT INTO stored_messages (id, stored_at) VALUES ($1, now() - interval '9 days'), ($2, now() - interval '1 day')",
                     "INSERT INTO metric_ids (id, stored_at) VALUES ($1, now() - interval '9 days'), ($2, now() - interval '1 day')",
                     """
                     INSERT INTO cumulative_series (series, start_time, last_ts, value, updated_at)
                     VALUES ($1, 0, now() - interval '9 days', 1, now() - interval '9 days'), ($2, 0, now(), 1, now())
                     """,
                 })
        {
            await using var seed = db.CreateCommand(sql);
            seed.Parameters.Add(new Npgsql.NpgsqlParameter { Value = oldId });
            seed.Parameters.Add(new Npgsql.NpgsqlParameter { Value = recentId });
            await seed.ExecuteNonQueryAsync();
        }

        var maintenance = new ContentMax.Aggregation.Storage.PartitionMaintenance(db,
            Microsoft.Extensions.Options.Options.Create(new ContentMax.Aggregation.Storage.RetentionOptions()), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ContentMax.Aggregation.Storage.PartitionMaintenance>.Instance);
        await Eventually.UntilAsync(async () =>
            {
                await maintenance.RunOnceAsync(CancellationToken.None);
                return await ColumnAsync(db, $"SELECT id::text FROM stored_messages WHERE id IN ('{oldId}', '{recentId}')");
            },
            ids => ids.Count == 1, TimeSpan.FromSeconds(30), ids => $"stored_messages still holds {string.Join(", ", ids)}", TimeSpan.FromSeconds(1));

        foreach (var (table, column) in new[] { ("stored_messages", "id"), ("metric_ids", "id"), ("cumulative_series", "series") })
        {
            Assert.Equal([recentId.ToString()], await ColumnAsync(db, $"SELECT {column}::text FROM {table} WHERE {column} IN ('{oldId}', '{recentId}')"));
        }
    }

    // The audit of admin changes is kept a year, like the alert history.
    [Fact]
    public async Task AlertAuditAndHistory_OlderThanAYear_AreDeleted_AndRecentOnesKept()
    {
        await using var db = await DatabaseAsync();
        string oldTarget = "old-" + Guid.NewGuid().ToString("N")[..10], recentTarget = "recent-" + Guid.NewGuid().ToString("N")[..10];
        foreach (var sql in new[]
                 {
                     "INSERT INTO alert_audit (at, actor, action, target) VALUES (now() - interval '366 days', 'admin', 'rule.created', $1), (now() - interval '1 day', 'admin', 'rule.created', $2)",
                     "INSERT INTO alert_history (rule_id, from_state, to_state, at) VALUES ($1, 'inactive', 'firing', now() - interval '366 days'), ($2, 'inactive', 'firing', now() - interval '1 day')",
                 })
        {
            await using var seed = db.CreateCommand(sql);
            seed.Parameters.Add(new NpgsqlParameter { Value = oldTarget });
            seed.Parameters.Add(new NpgsqlParameter { Value = recentTarget });
            await seed.ExecuteNonQueryAsync();
        }

        // Alerting trims its own tables (AlertRetention), apart from the partitions.
        await ContentMax.Alerting.Storage.AlertRetention.TrimAsync(db, CancellationToken.None);

        Assert.Equal([recentTarget], await ColumnAsync(db, "SELECT target FROM alert_audit WHERE target IN ($1, $2)", oldTarget, recentTarget));
        Assert.Equal([recentTarget], await ColumnAsync(db, "SELECT rule_id FROM alert_history WHERE rule_id IN ($1, $2)", oldTarget, recentTarget));
    }
}
