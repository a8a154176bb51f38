using ContentMax.Aggregation;
using ContentMax.Aggregation.Forwarding;
using ContentMax.Aggregation.Queries;
using ContentMax.Aggregation.Storage;
using ContentMax.Contracts;
using ContentMax.Schema;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace ContentMax.IntegrationTests;

// A database written by the row-per-point schema (migrations up to 0011, one
// INSERT ... ON CONFLICT (id, ts) per batch) upgrades in place to the
// append-only one, and everything in it stays queryable: raw rows, rollups,
// day rollups, exact and sketch percentiles; and ids stored before the upgrade
// still keep a re-send from being stored twice.
[Collection(AppHostCollection.Name)]
public class SchemaUpgradeTests(AppHostFixture fixture)
{
    private const int LastRowPerPointMigration = 11;

    [Fact]
    public async Task DatabaseOfTheRowPerPointSchema_UpgradesInPlace_AndStaysQueryable()
    {
        await using var server = await PrivateDatabase.CreateAsync(fixture, "upgrade_");
        await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None, upTo: LastRowPerPointMigration);
        await using var data = NpgsqlDataSource.Create(server.ConnectionString);

        // Three days of one big name (answered from sketches) and one small
        // name (answered exactly), written as the old consumer wrote them.
        var now = DateTime.UtcNow;
        var random = new Random(11);
        var big = Enumerable.Range(0, 3000).Select(i => (Name: "upgrade_big", Value: Math.Round(Math.Exp(random.NextDouble() * 6), 3), Ts: now.AddMinutes(-i * 1.4))).ToList();
        var small = Enumerable.Range(0, 40).Select(i => (Name: "upgrade_small", Value: (double)i, Ts: now.AddMinutes(-i * 90))).ToList();
        // The first small point's id stands for one a client chose.
        var clientId = Guid.NewGuid();
        var rows = big.Concat(small).Select(p => (Id: p == small[0] ? clientId : Guid.NewGuid(), p.Name, p.Value, p.Ts)).ToList();
        foreach (var chunk in rows.Chunk(500))
        {
            await OldStoreAsync(data, [.. chunk]);
        }

        await using (var days = data.CreateCommand("SELECT build_day_rollups('-infinity', date_trunc('day', now(), 'UTC'))"))
        {
            await days.ExecuteNonQueryAsync();
        }

        // Every migration since: the append-only storage (0012) and those after it.
        var since = typeof(MigrationRunner).Assembly.GetManifestResourceNames()
            .Count(n => n.StartsWith("Migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)
                && int.Parse(n["Migrations/".Length..].Split('_', 2)[0], System.Globalization.CultureInfo.InvariantCulture) > LastRowPerPointMigration);
        var applied = await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None);
        Assert.Equal(since, applied);
        Assert.True(since >= 2, $"{since} migrations after {LastRowPerPointMigration}");

        // Answered from the old rows, rollups and day rollups.
        var period = (From: new DateTimeOffset(now.AddDays(-4)), To: new DateTimeOffset(now.AddMinutes(1)));
        var queries = new MetricQueries(data, Options.Create(new AggregationOptions { ExactLimit = 1000 }));
        var after = await queries.AggregateAsync(period.From, period.To, null, CancellationToken.None);
        var exact = after["upgrade_small"];
        Assert.True(exact.Exact);
        Assert.Equal((40L, small.Sum(p => p.Value), 19.5), (exact.Count, exact.Sum, exact.Median));
        var sketched = after["upgrade_big"];
        Assert.False(sketched.Exact);
        var sorted = big.Select(p => p.Value).Order().ToArray();
        Assert.Equal((3000L, sorted[0], sorted[^1]), (sketched.Count, sketched.Min, sketched.Max));
        Assert.Equal(big.Sum(p => p.Value), sketched.Sum, 6);
        Assert.InRange(sketched.P95, sorted[2849] * 0.99, sorted[2849] * 1.01);

        var (raw, _) = await queries.RawAsync(period.From, period.To, "upgrade_small", null, 100, CancellationToken.None);
        Assert.Equal(40, raw.Count);
        Assert.All(raw, r => Assert.Equal(1, r.Count));

        // Storage goes on in the new shape: a re-send of a client id stored
        // before the upgrade stores nothing; a new point is stored and counted.
        var store = new MetricStore(data, Options.Create(new DatadogOptions()));
        var nowMs = new DateTimeOffset(now).ToUnixTimeMilliseconds();
        var resent = new MetricPoint { Id = clientId, RequireUniqueId = true, Metric = "upgrade_small", Value = 1000, Timestamp = nowMs };
        var fresh = new MetricPoint { Id = Guid.NewGuid(), Metric = "upgrade_small", Value = 1000, Timestamp = nowMs };
        var result = await store.StoreAsync([new StorageMessage(Guid.NewGuid(), [resent, fresh], DeduplicateIds: false)], CancellationToken.None);
        Assert.Equal((1, 1), (result.Stored, result.DuplicateIds));

        var latest = (await queries.AggregateAsync(period.From, period.To.AddMinutes(1), "upgrade_small", CancellationToken.None))["upgrade_small"];
        Assert.Equal((41L, 1000.0), (latest.Count, latest.Max));
    }

    // Before 0015 there were no tagged rollups. After it, tagged points are
    // rolled up from the first write on, and that write records since when
    // (not -infinity: the database already held points); explorer queries over
    // periods that start earlier count the points stored before the upgrade
    // from raw rows.
    [Fact]
    public async Task DatabaseWithoutTaggedRollups_UpgradesInPlace_AndTheExplorerCountsOlderPointsFromRawRows()
    {
        await using var server = await PrivateDatabase.CreateAsync(fixture, "upgrade_");
        await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None, upTo: 14);
        await using var data = NpgsqlDataSource.Create(server.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        var random = new Random(5);
        MetricPoint Point(int i, TimeSpan ago) => new()
        {
            Id = Guid.NewGuid(), Metric = "upgrade_tagged", Value = Math.Round(Math.Exp(random.NextDouble() * 5), 3),
            Timestamp = (now - ago).ToUnixTimeMilliseconds(), Tags = new() { ["route"] = i % 3 == 0 ? "/a" : "/b" },
        };

        // Stored as the previous version stored them: no tagged rollups.
        var before = Enumerable.Range(0, 1500).Select(i => Point(i, TimeSpan.FromMinutes(30 + i))).ToList();
        var old = new MetricStore(data, Options.Create(new DatadogOptions()));
        await old.StoreAsync([new StorageMessage(Guid.NewGuid(), before, DeduplicateIds: false)], CancellationToken.None);

        Assert.True(await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None) >= 1);

        var options = Options.Create(new AggregationOptions { ExactLimit = 1000 });
        var after = Enumerable.Range(0, 300).Select(i => Point(i, TimeSpan.FromMinutes(5 + i % 20))).ToList();
        await new MetricStore(data, Options.Create(new DatadogOptions()), options)
            .StoreAsync([new StorageMessage(Guid.NewGuid(), after, DeduplicateIds: false)], CancellationToken.None);

        await using (var command = data.CreateCommand("""
            SELECT (SELECT since FROM rollup_tag_keys WHERE keys = $1),
                   (SELECT sum(count) FROM metric_rollups_tagged_hour WHERE name = 'upgrade_tagged')::bigint
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = options.Value.TagKeys });
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.InRange(reader.GetFieldValue<DateTimeOffset>(0), now.AddMinutes(10), now.AddMinutes(20));
            Assert.Equal(after.Count, reader.GetInt64(1));
        }

        var explorer = new ExplorerQueries(data, options);
        var query = new ExplorerQuery([], ["route"], "count", 10);
        var cells = await explorer.ReadAsync(now.AddDays(-2).UtcDateTime, now.AddMinutes(1).UtcDateTime, "upgrade_tagged", query, null, CancellationToken.None);
        Assert.False(cells.FromRollups);
        var groups = ExplorerAnswers.Breakdown(cells.ByCell, query, options.Value.ExactLimit);
        var all = before.Concat(after).ToList();
        foreach (var route in new[] { "/a", "/b" })
        {
            var group = groups.Single(g => g.Group["route"] == route);
            Assert.Equal(all.Count(p => p.Tags!["route"] == route), group.Aggregate.Count);
            Assert.Equal(all.Where(p => p.Tags!["route"] == route).Max(p => p.Value), group.Aggregate.Max);
        }

        // Partition maintenance keeps the tagged tables' partitions too.
        await using var maintain = data.CreateCommand("SELECT count(*) FROM maintain_partitions('30 days', '90 days', '2 years') AS a WHERE a LIKE 'created metric_rollups_tagged_minute_p%'");
        Assert.True((long)(await maintain.ExecuteScalarAsync())! > 70);
    }

    // 0017 adds the tagged quarter-hour rollups and builds them from the tagged
    // minutes already stored, so a 15-minute chart over them reads quarter rows
    // from the first query after the upgrade, with the same answer.
    [Fact]
    public async Task DatabaseWithTaggedMinutes_UpgradesInPlace_WithTheirQuarterRollupsBuiltAndPacked()
    {
        await using var server = await PrivateDatabase.CreateAsync(fixture, "upgrade_");
        await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None, upTo: 16);
        await using var data = NpgsqlDataSource.Create(server.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        var random = new Random(9);
        var points = Enumerable.Range(0, 2000).Select(i => new MetricPoint
        {
            Id = Guid.NewGuid(), Metric = "upgrade_quarters", Value = Math.Round(Math.Exp(random.NextDouble() * 5), 3),
            Timestamp = (now - TimeSpan.FromMinutes(40) - TimeSpan.FromSeconds(random.Next(0, 3 * 3600))).ToUnixTimeMilliseconds(),
            Tags = new() { ["route"] = i % 3 == 0 ? "/a" : "/b" },
        }).ToList();
        var options = Options.Create(new AggregationOptions { ExactLimit = 1000 });
        await new MetricStore(data, Options.Create(new DatadogOptions()), options)
            .StoreAsync([new StorageMessage(Guid.NewGuid(), points, DeduplicateIds: false)], CancellationToken.None);

        // 0017 (quarters), 0018 (packed tagged sketches), 0019 (SLO source counts),
        // 0020 (packed hour and day sketches) and 0021 (raw partitions' vacuum).
        Assert.Equal(5, await new MigrationRunner(server.ConnectionString, NullLogger.Instance).RunAsync(CancellationToken.None));
        await using (var command = data.CreateCommand("SELECT reloptions FROM pg_class WHERE relname = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = $"metrics_p{now:yyyyMMdd}" });
            Assert.Contains("autovacuum_vacuum_insert_threshold=-1", (string[])(await command.ExecuteScalarAsync())!);
        }

        await using (var command = data.CreateCommand("SELECT coalesce(sum(count), 0)::bigint FROM metric_rollups_tagged_quarter WHERE name = 'upgrade_quarters'"))
        {
            Assert.Equal(points.Count, (long)(await command.ExecuteScalarAsync())!);
        }

        // Every quarter row and every closed hour row, tagged or not, is packed.
        const string closedHours = "bucket < now() - interval '62 minutes'";
        foreach (var (table, closed) in new[] { ("metric_rollups_tagged_quarter", "TRUE"), ("metric_rollups_tagged_hour", closedHours), ("metric_rollups_hour", closedHours) })
        {
            await using var command = data.CreateCommand($"SELECT count(*), count(sketch_packed) FROM {table} WHERE name = 'upgrade_quarters' AND {closed}");
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.True(reader.GetInt64(0) > 0, $"{table} has no closed rows");
            Assert.Equal(reader.GetInt64(0), reader.GetInt64(1));
        }

        var explorer = new ExplorerQueries(data, options);
        var (from, to) = (now.AddDays(-1).UtcDateTime, now.UtcDateTime);
        var step = TimeSpan.FromMinutes(15);
        var byRoute = new ExplorerQuery([], ["route"], "count", 10);
        var fromQuarters = await explorer.ReadAsync(from, to, "upgrade_quarters", byRoute, step, CancellationToken.None);
        Assert.True(fromQuarters.FromRollups);
        var fromRaw = await explorer.ReadAsync(from, to, "upgrade_quarters", byRoute with { Filters = [new TagFilter("env", "x", Negated: true)] }, step, CancellationToken.None);
        Assert.False(fromRaw.FromRollups);
        Assert.Equal(
            fromRaw.ByCell.OrderBy(c => c.Key).Select(c => (c.Key, c.Value.Count)),
            fromQuarters.ByCell.OrderBy(c => c.Key).Select(c => (c.Key, c.Value.Count)));
        Assert.Equal(points.Count, fromQuarters.ByCell.Values.Sum(c => c.Count));

        // The packed sketches give the percentiles the arrays give.
        var p95 = byRoute with { Aggregation = "p95" };
        var packed = await explorer.ReadAsync(from, to, "upgrade_quarters", p95, step, CancellationToken.None);
        await using (var unpack = data.CreateCommand("UPDATE metric_rollups_tagged_quarter SET sketch_packed = NULL WHERE name = 'upgrade_quarters'"))
        {
            Assert.True(await unpack.ExecuteNonQueryAsync() > 0);
        }

        var arrays = await explorer.ReadAsync(from, to, "upgrade_quarters", p95, step, CancellationToken.None);
        static IEnumerable<object> Percentiles(ExplorerQueries.Cells cells) => cells.ByCell.OrderBy(c => c.Key)
            .Select(c => c.Value.ToAggregate()!).Select(a => (object)(a.Count, a.Min, a.Median, a.P75, a.P95, a.P99, a.Max));
        Assert.DoesNotContain(packed.ByCell.Values, c => c.FromValues);
        Assert.Equal(Percentiles(arrays), Percentiles(packed));

        // So do the untagged hours' for GET /api/metrics.
        var queries = new MetricQueries(data, options);
        var fromPackedHours = (await queries.AggregateAsync(now.AddDays(-1), now, "upgrade_quarters", CancellationToken.None))["upgrade_quarters"];
        await using (var unpack = data.CreateCommand("UPDATE metric_rollups_hour SET sketch_packed = NULL WHERE name = 'upgrade_quarters'"))
        {
            Assert.True(await unpack.ExecuteNonQueryAsync() > 0);
        }

        Assert.False(fromPackedHours.Exact);
        Assert.Equal(points.Count, fromPackedHours.Count);
        var fromArrays = (await queries.AggregateAsync(now.AddDays(-1), now, "upgrade_quarters", CancellationToken.None))["upgrade_quarters"];
        // Rows may be summed in another order: sums agree to rounding.
        Assert.Equal(fromArrays.Sum, fromPackedHours.Sum, 1e-9 * fromArrays.Sum);
        Assert.Equal(fromArrays with { Sum = 0, Average = 0 }, fromPackedHours with { Sum = 0, Average = 0 });
    }

    // The statement the row-per-point consumer wrote each batch with (before
    // migration 0012), kept here as the fixture of what such a database holds.
    private static async Task OldStoreAsync(NpgsqlDataSource data, List<(Guid Id, string Name, double Value, DateTime Ts)> points)
    {
        await using var command = data.CreateCommand("""
            WITH inserted AS (
                INSERT INTO metrics (id, name, value, ts)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::timestamptz[])
                ON CONFLICT (id, ts) DO NOTHING
                RETURNING name, ts, value
            ), keyed AS (
                SELECT name, date_trunc('minute', ts) AS minute, sketch_key(value) AS key,
                       count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
                FROM inserted GROUP BY 1, 2, 3
            ), per_minute AS (
                INSERT INTO metric_rollups_minute AS r (bucket, name, shard, count, sum, min, max, sketch)
                SELECT minute, name, 0, sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
                FROM keyed GROUP BY minute, name
                ON CONFLICT (bucket, name, shard) DO UPDATE SET count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
                    min = least(r.min, EXCLUDED.min), max = greatest(r.max, EXCLUDED.max), sketch = sketch_merge(r.sketch, EXCLUDED.sketch)
            )
            INSERT INTO metric_rollups_hour AS r (bucket, name, shard, count, sum, min, max, sketch)
            SELECT hour, name, 0, sum(n)::bigint, sum(total), min(lo), max(hi), ROW(array_agg(key ORDER BY key), array_agg(n ORDER BY key))::sketch
            FROM (SELECT date_trunc('hour', minute) AS hour, name, key, sum(n)::bigint AS n, sum(total) AS total, min(lo) AS lo, max(hi) AS hi
                  FROM keyed GROUP BY 1, 2, 3) hourly
            GROUP BY hour, name
            ON CONFLICT (bucket, name, shard) DO UPDATE SET count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
                min = least(r.min, EXCLUDED.min), max = greatest(r.max, EXCLUDED.max), sketch = sketch_merge(r.sketch, EXCLUDED.sketch)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = points.Select(p => p.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = points.Select(p => p.Name).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = points.Select(p => p.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        command.Parameters.Add(new NpgsqlParameter { Value = points.Select(p => p.Ts).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync();
    }
}
