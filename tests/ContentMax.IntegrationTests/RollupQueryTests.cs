using System.Net;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// Above Aggregation:ExactLimit (1000 in tests) aggregates come from the rollups
// the consumer maintains in Postgres, merged with raw rows at the edges.
[Collection(AppHostCollection.Name)]
public class RollupQueryTests(AppHostFixture fixture)
{
    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task LargeMetric_IsAnsweredFromRollups_WithinOnePercent_AndRedeliveryCountsNothingTwice()
    {
        var name = MetricsApi.UniqueName();
        var random = new Random(99);
        var now = DateTimeOffset.UtcNow;
        // Spread over the last three hours, so whole hours, whole minutes and raw edges all take part.
        var metrics = Enumerable.Range(0, 5000).Select(i => new
        {
            metric = name,
            value = i % 10 == 0 ? 0 : Math.Round(Math.Exp(4 + 1.2 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())), 4),
            timestamp = (now - TimeSpan.FromSeconds(random.Next(0, 3 * 3600))).ToUnixTimeMilliseconds(),
            id = Guid.NewGuid(),
        }).ToArray();

        foreach (var chunk in metrics.Chunk(1000))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        var aggregate = await _aggregation.WaitForCountAsync(name, metrics.Length, period: "24h");
        AssertMatches(metrics.Select(m => m.value).ToArray(), aggregate);

        // The same metrics again (a client retry): the rollups must not count them twice.
        foreach (var chunk in metrics.Chunk(1000))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        var sentinel = MetricsApi.UniqueName();
        await _ingestion.PostAsync(new { metric = sentinel, value = 1 });
        await _aggregation.WaitForCountAsync(sentinel, 1);
        await Task.Delay(500);
        AssertMatches(metrics.Select(m => m.value).ToArray(), (await _aggregation.AggregateAsync(name, "24h"))!);
    }

    [Fact]
    public async Task ClosedBuckets_AreCompactedToOneRowPerBucket_WithoutChangingAnyAnswer()
    {
        var name = MetricsApi.UniqueName();
        var random = new Random(7);
        var now = DateTimeOffset.UtcNow;
        // Ten minutes up to two hours ago (closed minutes and hours), sent in
        // separate requests so they land in several shards.
        var metrics = Enumerable.Range(0, 3000).Select(i => new
        {
            metric = name,
            value = Math.Round(random.NextDouble() * 1000, 3),
            timestamp = (now - TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(random.Next(0, 110 * 60))).ToUnixTimeMilliseconds(),
        }).ToArray();
        await Task.WhenAll(metrics.Chunk(200).Select(async chunk =>
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode)));
        var before = await _aggregation.WaitForCountAsync(name, metrics.Length, period: "24h");

        await using var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));
        async Task<(long Rows, long Buckets, long Shards)> RollupRowsAsync()
        {
            await using var command = db.CreateCommand("""
                SELECT count(*), count(DISTINCT bucket), count(*) FILTER (WHERE shard <> 0) FROM metric_rollups_minute WHERE name = $1
                """);
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        var compacted = await Eventually.UntilAsync(RollupRowsAsync, r => r.Shards == 0, TimeSpan.FromSeconds(30),
            r => $"{r.Shards} shard rows of {r.Rows} were still not merged", TimeSpan.FromMilliseconds(500));
        Assert.Equal(compacted.Buckets, compacted.Rows);

        var after = (await _aggregation.AggregateAsync(name, "24h"))!;
        foreach (var field in new[] { "count", "sum", "min", "max", "median", "p75", "p95", "p99" })
        {
            Assert.Equal(before[field]!.GetValue<double>(), after[field]!.GetValue<double>(), 6);
        }
    }

    [Fact]
    public async Task EndedDays_AreReadFromDayRollups_AndALatePointCountsBeforeAndAfterItsDayIsRebuilt()
    {
        var name = MetricsApi.UniqueName();
        var random = new Random(11);
        var today = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
        // Days 4, 3 and 2 before today: ended UTC days, well inside MetricRules.MaxAge.
        var values = new List<double>();
        var metrics = Enumerable.Range(0, 3000).Select(i =>
        {
            var value = Math.Round(Math.Exp(3 + random.NextDouble() * 3), 3);
            values.Add(value);
            return new { metric = name, value, timestamp = (today.AddDays(-4) + TimeSpan.FromSeconds(random.Next(0, 3 * 86400))).ToUnixTimeMilliseconds() };
        }).ToArray();
        foreach (var chunk in metrics.Chunk(500))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        await using var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));
        async Task<(long Days, long Count)> DayRowsAsync()
        {
            await using var command = db.CreateCommand("SELECT count(*), coalesce(sum(count), 0)::bigint FROM metric_rollups_day WHERE name = $1");
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }

        var built = await Eventually.UntilAsync(DayRowsAsync, d => d.Count == values.Count, TimeSpan.FromSeconds(60),
            d => $"day rollups held {d.Count} of {values.Count} points", TimeSpan.FromMilliseconds(500));
        Assert.Equal(3, built.Days);
        AssertMatches(values.ToArray(), (await _aggregation.WaitForCountAsync(name, values.Count, period: "7d"))!);

        // A late point into an ended day: counted at once (its day row is stale,
        // so that day is read from its hours), and still once after the compactor
        // has rebuilt the day.
        values.Add(1e6);
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(new
        {
            metric = name, value = 1e6, timestamp = (today.AddDays(-3) + TimeSpan.FromHours(5)).ToUnixTimeMilliseconds(),
        })).StatusCode);
        var stale = (await _aggregation.WaitForCountAsync(name, values.Count, period: "7d"))!;
        Assert.Equal(1e6, stale["max"]!.GetValue<double>());

        await Eventually.UntilAsync(DayRowsAsync, d => d.Count == values.Count, TimeSpan.FromSeconds(60),
            d => $"day rollups held {d.Count} of {values.Count} points after the late one", TimeSpan.FromMilliseconds(500));
        AssertMatches(values.ToArray(), (await _aggregation.AggregateAsync(name, "7d"))!);
        AssertMatches(values.ToArray(), (await _aggregation.AggregateAsync(name, "30d"))!);
    }

    [Fact]
    public async Task ClosedHoursAndDays_ArePacked_AndAnswerAsTheirArraysDo_AndAnyLaterUpdateUnpacksThem()
    {
        var name = MetricsApi.UniqueName();
        var random = new Random(31);
        var now = DateTimeOffset.UtcNow;
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        // Half on the day 3 days before today (an ended day), half over 100
        // minutes ending 70 minutes ago (closed hours).
        var metrics = Enumerable.Range(0, 3000).Select(i => new
        {
            metric = name,
            value = Math.Round(Math.Exp(2 + 3 * random.NextDouble()), 3),
            timestamp = (i % 2 == 0
                ? today.AddDays(-3) + TimeSpan.FromSeconds(random.Next(0, 86400))
                : now - TimeSpan.FromMinutes(70) - TimeSpan.FromSeconds(random.Next(0, 100 * 60))).ToUnixTimeMilliseconds(),
        }).ToArray();
        foreach (var chunk in metrics.Chunk(500))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(chunk)).StatusCode);
        }

        await using var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));
        var rows = new PackedSketchRows(db, name);
        string[] tables = ["metric_rollups_hour", "metric_rollups_day"];
        await _aggregation.WaitForCountAsync(name, metrics.Length, period: "7d");
        await rows.AllClosedPackedAsync("after storing", tables);
        // 7d reads the day row and the hours around it, 24h the closed hours.
        async Task<List<string>> AnswersAsync() =>
            [.. await Task.WhenAll(new[] { "7d", "24h" }.Select(async period => (await _aggregation.AggregateAsync(name, period))!.ToJsonString()))];
        var packed = await AnswersAsync();
        AssertMatches(metrics.Select(m => m.value).ToArray(), JsonNode.Parse(packed[0])!.AsObject());

        // The compactor held, so that it packs nothing while the arrays answer.
        await using (await rows.HoldCompactorAsync())
        {
            // The queries read the packed sketches: a different one shows.
            foreach (var table in tables)
            {
                Assert.All(await rows.UpdateAsync(table, "sketch_packed = sketch_pack(ROW(ARRAY[101000], ARRAY[count])::sketch)"), Assert.NotNull);
            }

            Assert.All((await AnswersAsync()).Zip(packed), a => Assert.NotEqual(a.Second, a.First));

            // Any update that does not pack a row again unpacks it (a late
            // point, a rebuilt day): its arrays then answer, with the same figures.
            foreach (var table in tables) Assert.All(await rows.UpdateAsync(table, "count = count"), Assert.Null);
            AssertSameAnswers(packed, await AnswersAsync());
        }

        // The compactor packs them again.
        await rows.AllClosedPackedAsync("after unpacking", tables);
        AssertSameAnswers(packed, await AnswersAsync());
    }

    // The same figures; rows may be summed in another order, so sums (and
    // averages) agree to rounding.
    private static void AssertSameAnswers(List<string> expected, List<string> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Select(t => JsonNode.Parse(t)!).Zip(actual.Select(t => JsonNode.Parse(t)!)))
        {
            foreach (var field in new[] { "count", "min", "max", "median", "p75", "p95", "p99" })
            {
                Assert.Equal(e[field]!.GetValue<double>(), a[field]!.GetValue<double>());
            }

            foreach (var field in new[] { "sum", "average" })
            {
                Assert.Equal(e[field]!.GetValue<double>(), a[field]!.GetValue<double>(), 1e-9 * Math.Abs(e[field]!.GetValue<double>()));
            }

            Assert.Equal(e["exact"]!.GetValue<bool>(), a["exact"]!.GetValue<bool>());
        }
    }

    private static void AssertMatches(double[] values, JsonObject aggregate)
    {
        var sorted = values.Order().ToArray();
        Assert.False(aggregate["exact"]!.GetValue<bool>());
        Assert.Equal(values.Length, aggregate["count"]!.GetValue<long>());
        Assert.Equal(values.Sum(), aggregate["sum"]!.GetValue<double>(), 3);
        Assert.Equal(sorted[0], aggregate["min"]!.GetValue<double>());
        Assert.Equal(sorted[^1], aggregate["max"]!.GetValue<double>());

        void Within(double exact, string field) =>
            Assert.True(Math.Abs(aggregate[field]!.GetValue<double>() - exact) <= 0.01 * Math.Abs(exact),
                $"{field}: {aggregate[field]} vs exact {exact}");

        var n = sorted.Length;
        Within(n % 2 == 0 ? (sorted[n / 2 - 1] + sorted[n / 2]) / 2 : sorted[n / 2], "median");
        Within(sorted[(int)Math.Ceiling(0.75m * sorted.Length) - 1], "p75");
        Within(sorted[(int)Math.Ceiling(0.95m * sorted.Length) - 1], "p95");
        Within(sorted[(int)Math.Ceiling(0.99m * sorted.Length) - 1], "p99");
    }
}
