using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ContentMax.IntegrationTests;

// The metrics explorer's queries (/series and /breakdown with filter, groupBy,
// agg and limit; /tags) against exact figures computed from the posted points.
[Collection(AppHostCollection.Name)]
public class ExplorerTests(AppHostFixture fixture)
{
    private readonly HttpClient _ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
    private readonly HttpClient _aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);

    private sealed record Posted(string Route, string? Status, double Value, long Timestamp);

    private async Task<List<Posted>> PostAsync(string name, IEnumerable<Posted> points)
    {
        var list = points.ToList();
        foreach (var chunk in list.Chunk(1000))
        {
            var body = chunk.Select(p => new
            {
                metric = name,
                value = p.Value,
                timestamp = p.Timestamp,
                tags = p.Status is null ? new Dictionary<string, string> { ["route"] = p.Route, ["env"] = "test" }
                    : new Dictionary<string, string> { ["route"] = p.Route, ["status"] = p.Status, ["env"] = "test" },
            }).ToArray();
            Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(body)).StatusCode);
        }

        await _aggregation.WaitForCountAsync(name, list.Count, period: "7d");
        return list;
    }

    private async Task<JsonObject> GetAsync(string url)
    {
        var response = await _aggregation.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private static double P(IEnumerable<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Ceiling(percentile / 100m * sorted.Length) - 1];
    }

    // A small set (exact answers): three routes, two statuses and one point without status, in the last half hour.
    private static List<Posted> SmallSet(DateTimeOffset now)
    {
        var random = new Random(3);
        var points = new List<Posted>();
        string[] routes = ["/a", "/a", "/a", "/b", "/b", "/c"];
        for (var i = 0; i < 60; i++)
        {
            var status = i % 10 == 9 ? "500" : i % 10 == 8 ? "204" : "200";
            points.Add(new Posted(routes[i % routes.Length], status, Math.Round(random.NextDouble() * 100, 2), (now - TimeSpan.FromSeconds(30 + random.Next(0, 1800))).ToUnixTimeMilliseconds()));
        }

        points.Add(new Posted("/a", null, 1000, (now - TimeSpan.FromMinutes(2)).ToUnixTimeMilliseconds()));
        return points;
    }

    [Fact]
    public async Task GroupedSeriesAndBreakdown_EqualExactFigures_WithOtherLast()
    {
        var name = MetricsApi.UniqueName("ex");
        var points = await PostAsync(name, SmallSet(DateTimeOffset.UtcNow));

        var series = await GetAsync($"/api/metrics/series?metric={name}&period=1h&step=5m&agg=p95&groupBy=route&limit=2");
        Assert.Equal("p95", series["aggregation"]!.GetValue<string>());
        Assert.Equal(["route"], series["groupBy"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.False(series["truncated"]!.GetValue<bool>());
        Assert.Equal(points.Count, series["buckets"]!.AsArray().Sum(b => b!["count"]!.GetValue<long>()));

        var byRoute = points.GroupBy(p => p.Route).ToDictionary(g => g.Key, g => g.Select(p => p.Value).ToList());
        var expectedOrder = byRoute.OrderByDescending(g => P(g.Value, 95)).Select(g => g.Key).ToList();
        var entries = series["series"]!.AsArray().Select(n => n!.AsObject()).ToList();
        Assert.Equal(3, entries.Count);
        for (var i = 0; i < 2; i++)
        {
            var route = expectedOrder[i];
            Assert.Equal($"route={route}", entries[i]["label"]!.GetValue<string>());
            Assert.Equal(route, entries[i]["group"]!["route"]!.GetValue<string>());
            Assert.Equal(P(byRoute[route], 95), entries[i]["total"]!.GetValue<double>());
            Assert.Equal(byRoute[route].Count, entries[i]["count"]!.GetValue<long>());
            Assert.Equal(series["buckets"]!.AsArray().Count, entries[i]["points"]!.AsArray().Count);
            Assert.Equal(byRoute[route].Count, entries[i]["points"]!.AsArray().Sum(p => p!["count"]!.GetValue<long>()));
        }

        var other = entries[2];
        Assert.Equal(("other", true), (other["label"]!.GetValue<string>(), other["other"]!.GetValue<bool>()));
        Assert.Empty(other["group"]!.AsObject());
        Assert.Equal(P(byRoute[expectedOrder[2]], 95), other["total"]!.GetValue<double>());

        // Breakdown by two keys, ranked by count; the point without status is under status "".
        var breakdown = await GetAsync($"/api/metrics/breakdown?metric={name}&period=1h&groupBy=route&groupBy=status&agg=p99");
        var groups = breakdown["groups"]!.AsArray().Select(n => n!.AsObject()).ToList();
        var expected = points.GroupBy(p => (p.Route, Status: p.Status ?? "")).ToList();
        Assert.Equal(expected.Count, groups.Count);
        foreach (var g in expected)
        {
            var label = $"route={g.Key.Route}, status={g.Key.Status}";
            var group = groups.Single(x => x["label"]!.GetValue<string>() == label);
            var aggregate = group["aggregate"]!.AsObject();
            Assert.True(aggregate["exact"]!.GetValue<bool>());
            Assert.Equal(g.Count(), aggregate["count"]!.GetValue<long>());
            Assert.Equal(P(g.Select(p => p.Value), 99), aggregate["p99"]!.GetValue<double>());
            Assert.Equal(g.Max(p => p.Value), breakdown["values"]![label]!["max"]!.GetValue<double>());
        }

        var ranked = groups.Select(x => x["aggregate"]!["p99"]!.GetValue<double>()).ToList();
        Assert.Equal(ranked.OrderDescending(), ranked);

        // tag= works as before: values keyed by the tag value, ranked by count.
        var byTag = await GetAsync($"/api/metrics/breakdown?metric={name}&period=1h&tag=route");
        Assert.Equal("route", byTag["tag"]!.GetValue<string>());
        Assert.Equal(byRoute.Keys.Order(), byTag["values"]!.AsObject().Select(kv => kv.Key).Order());
        Assert.Equal(byRoute["/a"].Count, byTag["values"]!["/a"]!["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Filters_Narrow_WithOrWithinAKey_AndNotEqualsMatchingAMissingTag()
    {
        var name = MetricsApi.UniqueName("ex");
        var points = await PostAsync(name, SmallSet(DateTimeOffset.UtcNow));

        async Task<(long Count, double? Sum)> AllAsync(string filters)
        {
            var body = await GetAsync($"/api/metrics/breakdown?metric={name}&period=1h&groupBy=route&limit=500&agg=sum{filters}");
            var groups = body["groups"]!.AsArray();
            Assert.Equal(filters.Split("&filter=", StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString), body["filters"]!.AsArray().Select(f => f!.GetValue<string>()));
            return (groups.Sum(g => g!["aggregate"]!["count"]!.GetValue<long>()), groups.Count == 0 ? null : groups.Sum(g => g!["aggregate"]!["sum"]!.GetValue<double>()));
        }

        void Matches(Func<Posted, bool> keep, (long Count, double? Sum) got)
        {
            var kept = points.Where(keep).ToList();
            Assert.Equal(kept.Count, got.Count);
            Assert.Equal(kept.Sum(p => p.Value), got.Sum ?? 0, 6);
        }

        Matches(p => p.Status == "200", await AllAsync("&filter=status:200"));
        Matches(p => p.Status is "200" or "204", await AllAsync("&filter=status:200&filter=status:204"));
        Matches(p => p.Status == "200" && p.Route == "/a", await AllAsync("&filter=status:200&filter=route:/a"));
        Matches(p => p.Route != "/a", await AllAsync("&filter=route!=/a"));
        Matches(p => p.Status != "200", await AllAsync("&filter=status!=200"));
        Matches(p => p.Status != "200" && p.Status != "500", await AllAsync("&filter=status!=200&filter=status!=500"));
        Matches(_ => false, await AllAsync("&filter=status:404"));

        // Series: the buckets hold every filtered point.
        var series = await GetAsync($"/api/metrics/series?metric={name}&period=1h&filter=route:/b&agg=count");
        Assert.Equal(points.Count(p => p.Route == "/b"), series["buckets"]!.AsArray().Sum(b => b!["count"]!.GetValue<long>()));
        var all = Assert.Single(series["series"]!.AsArray())!;
        Assert.Equal(("all", (double)points.Count(p => p.Route == "/b")), (all["label"]!.GetValue<string>(), all["total"]!.GetValue<double>()));
    }

    [Theory]
    [InlineData("/api/metrics/series?metric=a&filter=nooperator", "filter")]
    [InlineData("/api/metrics/series?metric=a&filter=:x", "filter")]
    [InlineData("/api/metrics/series?metric=a&groupBy=a&groupBy=b&groupBy=c", "groupBy")]
    [InlineData("/api/metrics/series?metric=a&groupBy=a&groupBy=a", "groupBy")]
    [InlineData("/api/metrics/series?metric=a&agg=p90", "agg")]
    [InlineData("/api/metrics/series?metric=a&limit=51", "limit")]
    [InlineData("/api/metrics/breakdown?metric=a&groupBy=route&limit=501", "limit")]
    [InlineData("/api/metrics/breakdown?metric=a&groupBy=route&agg=median", "agg")]
    [InlineData("/api/metrics/breakdown?metric=a", "tag")]
    [InlineData("/api/metrics/tags?period=1h", "metric")]
    public async Task InvalidExplorerQueries_Are400NamingTheParameter(string url, string parameter)
    {
        var response = await _aggregation.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.NotNull(problem["errors"]![parameter]);
    }

    [Fact]
    public async Task OpenApi_DescribesTheExplorerParameters()
    {
        var document = JsonNode.Parse(await _aggregation.GetStringAsync("/openapi/v1.json"))!;
        var paths = document["paths"]!;
        Assert.NotNull(paths["/api/metrics/tags"]);
        var series = paths["/api/metrics/series"]!["get"]!["parameters"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!);
        foreach (var name in new[] { "filter", "groupBy", "agg", "limit", "metric", "period", "step" })
        {
            Assert.False(string.IsNullOrEmpty(series[name]["description"]?.GetValue<string>()), $"{name} has no description");
        }

        Assert.Contains("array", series["filter"]["schema"]!.ToJsonString());
    }

    [Fact]
    public async Task ElevenFilters_Are400OnFilter()
    {
        var url = "/api/metrics/series?metric=a" + string.Concat(Enumerable.Range(0, 11).Select(i => $"&filter=k{i}:v"));
        var problem = await (await _aggregation.GetAsync(url)).ProblemAsync();
        Assert.Contains("at most 10", problem["errors"]!["filter"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task GroupByWithMoreThanMaxGroupsValues_Is400OnGroupBy_AskingForAFilter()
    {
        var name = MetricsApi.UniqueName("ex");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var body = Enumerable.Range(0, AppHostFixture.MaxGroups + 1)
            .Select(i => new { metric = name, value = i, timestamp = now - i, tags = new Dictionary<string, string> { ["user"] = $"u{i}", ["route"] = "/a" } }).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await _ingestion.PostAsync(body)).StatusCode);
        await _aggregation.WaitForCountAsync(name, body.Length);

        var problem = await (await _aggregation.GetAsync($"/api/metrics/breakdown?metric={name}&period=1h&groupBy=user")).ProblemAsync();
        Assert.Contains($"more than {AppHostFixture.MaxGroups} distinct values", problem["errors"]!["groupBy"]![0]!.GetValue<string>());
        Assert.Contains("add a filter", problem["errors"]!["groupBy"]![0]!.GetValue<string>());
        var series = await (await _aggregation.GetAsync($"/api/metrics/series?metric={name}&period=1h&groupBy=route&groupBy=user")).ProblemAsync();
        Assert.NotNull(series["errors"]!["groupBy"]);

        // A filter brings it under the limit.
        var filtered = await GetAsync($"/api/metrics/breakdown?metric={name}&period=1h&groupBy=user&limit=500&filter=user!=u0&filter=user!=u1");
        Assert.Equal(AppHostFixture.MaxGroups - 1, filtered["groups"]!.AsArray().Count);
    }

    [Fact]
    public async Task Tags_ListKeysWithTheirMostFrequentValues()
    {
        var name = MetricsApi.UniqueName("ex");
        var points = await PostAsync(name, SmallSet(DateTimeOffset.UtcNow));
        var body = await GetAsync($"/api/metrics/tags?metric={name}&period=1h");
        Assert.Equal(name, body["metric"]!.GetValue<string>());
        var keys = body["keys"]!.AsArray().Select(k => k!.AsObject()).ToList();
        Assert.Equal(["env", "route", "status"], keys.Select(k => k["key"]!.GetValue<string>()));
        var routes = keys[1]["values"]!.AsArray().Select(v => (v!["value"]!.GetValue<string>(), v["count"]!.GetValue<long>())).ToList();
        Assert.Equal(points.GroupBy(p => p.Route).OrderByDescending(g => g.Count()).Select(g => (g.Key, (long)g.Count())), routes);
        Assert.False(keys[1]["truncated"]!.GetValue<bool>());
    }

    // Three days ago, beyond ExactLimit (1000 in tests) for the metric: the
    // tagged rollups answer (hours and minutes), every group from sketches,
    // and agree with the same query answered from raw rows (a filter on a key
    // that is not a rollup key, env, sends it there; there the small group is
    // exact) and with the exact figures within 1%.
    [Fact]
    public async Task TaggedRollups_AnswerAnOlderWindow_AsRawRowsDo()
    {
        var name = MetricsApi.UniqueName("ex");
        var random = new Random(21);
        var start = DateTimeOffset.UtcNow.AddDays(-3);
        var points = Enumerable.Range(0, 4500).Select(i => new Posted(
            i % 3 == 0 ? "/small" : i % 2 == 0 ? "/big1" : "/big2",
            i % 5 == 0 ? "500" : "200",
            Math.Round(Math.Exp(3 + 2 * random.NextDouble()), 3),
            (start + TimeSpan.FromSeconds(random.Next(0, 6 * 3600))).ToUnixTimeMilliseconds()))
            .ToList();
        // /small: at most ExactLimit points, so it stays exact.
        points = [.. points.Where(p => p.Route != "/small").Concat(points.Where(p => p.Route == "/small").Take(400))];
        await PostAsync(name, points);

        await using (var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb")))
        await using (var command = db.CreateCommand("SELECT coalesce(sum(count), 0)::bigint FROM metric_rollups_tagged_hour WHERE name = $1"))
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            Assert.Equal(points.Count, (long)(await command.ExecuteScalarAsync())!);
        }

        var rollups = await GetAsync($"/api/metrics/breakdown?metric={name}&period=7d&groupBy=route&agg=p95");
        var raw = await GetAsync($"/api/metrics/breakdown?metric={name}&period=7d&groupBy=route&agg=p95&filter=env!=none");
        foreach (var route in new[] { "/small", "/big1", "/big2" })
        {
            var values = points.Where(p => p.Route == route).Select(p => p.Value).ToList();
            var fromRollups = rollups["values"]![route]!.AsObject();
            var fromRaw = raw["values"]![route]!.AsObject();
            Assert.Equal(values.Count, fromRollups["count"]!.GetValue<long>());
            Assert.Equal(values.Count, fromRaw["count"]!.GetValue<long>());
            Assert.Equal(values.Max(), fromRollups["max"]!.GetValue<double>());
            Assert.Equal(values.Min(), fromRollups["min"]!.GetValue<double>());
            Assert.Equal(values.Sum(), fromRollups["sum"]!.GetValue<double>(), 3);
            Assert.False(fromRollups["exact"]!.GetValue<bool>());
            Assert.Equal(route == "/small", fromRaw["exact"]!.GetValue<bool>());
            foreach (var (field, percentile) in new[] { ("p75", 75), ("p95", 95), ("p99", 99) })
            {
                var exact = P(values, percentile);
                Assert.InRange(fromRollups[field]!.GetValue<double>(), exact * 0.99, exact * 1.01);
                Assert.InRange(fromRollups[field]!.GetValue<double>(), fromRaw[field]!.GetValue<double>() * 0.99, fromRaw[field]!.GetValue<double>() * 1.01);
            }
        }

        // Filtered and grouped by both rollup keys, by hour over 7 days: the same counts per step as raw rows.
        var hourly = await GetAsync($"/api/metrics/series?metric={name}&period=7d&step=1h&groupBy=route&groupBy=status&filter=status:500&agg=count");
        var hourlyRaw = await GetAsync($"/api/metrics/series?metric={name}&period=7d&step=1h&groupBy=route&groupBy=status&filter=status:500&filter=env:test&agg=count");
        Assert.Equal(hourlyRaw["series"]!.ToJsonString(), hourly["series"]!.ToJsonString());
        Assert.Equal(points.Count(p => p.Status == "500"), hourly["series"]!.AsArray().Sum(s => s!["count"]!.GetValue<long>()));

        // Once the compactor has built the tagged day rows, whole days come from
        // them, with the same answers.
        await using (var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb")))
        {
            async Task<long> DayCountAsync()
            {
                await using var command = db.CreateCommand("SELECT coalesce(sum(count), 0)::bigint FROM metric_rollups_tagged_day WHERE name = $1");
                command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
                return (long)(await command.ExecuteScalarAsync())!;
            }

            await Eventually.UntilAsync(DayCountAsync, n => n == points.Count, TimeSpan.FromSeconds(60),
                n => $"tagged day rollups held {n} of {points.Count} points", TimeSpan.FromMilliseconds(500));
        }

        var fromDays = await GetAsync($"/api/metrics/breakdown?metric={name}&period=7d&groupBy=route&agg=p95");
        foreach (var (route, before) in rollups["values"]!.AsObject())
        {
            var after = fromDays["values"]![route]!;
            Assert.Equal(before!["count"]!.GetValue<long>(), after["count"]!.GetValue<long>());
            Assert.Equal(before["p95"]!.GetValue<double>(), after["p95"]!.GetValue<double>());
            Assert.Equal(before["max"]!.GetValue<double>(), after["max"]!.GetValue<double>());
        }

        // Proof of where the large groups come from: without their raw rows the
        // rollups still answer them whole.
        await using (var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb")))
        await using (var command = db.CreateCommand("DELETE FROM metrics WHERE name = $1 AND tags ->> 'route' <> '/small'"))
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            await command.ExecuteNonQueryAsync();
        }

        var again = await GetAsync($"/api/metrics/breakdown?metric={name}&period=7d&groupBy=route&agg=p95");
        foreach (var (route, before) in rollups["values"]!.AsObject())
        {
            var after = again["values"]![route]!;
            Assert.Equal(before!["count"]!.GetValue<long>(), after["count"]!.GetValue<long>());
            Assert.Equal(before["p95"]!.GetValue<double>(), after["p95"]!.GetValue<double>());
            Assert.Equal(before["sum"]!.GetValue<double>(), after["sum"]!.GetValue<double>(), 6);
        }

        var rawAgain = await GetAsync($"/api/metrics/breakdown?metric={name}&period=7d&groupBy=route&agg=p95&filter=env!=none");
        Assert.Equal(["/small"], rawAgain["values"]!.AsObject().Select(kv => kv.Key));
    }

    // A 24h chart has 15-minute steps. Its whole quarters come from the tagged
    // quarter rows the compactor builds from closed minutes, and the answer
    // equals the one from raw rows. A quarter whose minutes changed since it was
    // built is read from its minutes until the compactor rebuilds it.
    [Fact]
    public async Task TaggedQuarterRollups_AnswerA24hChart_AsRawRowsDo_AndAStaleQuarterIsReadFromItsMinutes()
    {
        var name = MetricsApi.UniqueName("exq");
        var random = new Random(17);
        var now = DateTimeOffset.UtcNow;
        // Two hours of points, all in quarters that have ended.
        var points = Enumerable.Range(0, 3000).Select(i => new Posted(
            i % 2 == 0 ? "/q1" : "/q2",
            i % 4 == 0 ? "500" : "200",
            Math.Round(Math.Exp(3 + 2 * random.NextDouble()), 3),
            (now - TimeSpan.FromMinutes(40) - TimeSpan.FromSeconds(random.Next(0, 2 * 3600))).ToUnixTimeMilliseconds()))
            .ToList();
        await PostAsync(name, points);

        await using var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));
        async Task<long> QuarterCountAsync()
        {
            await using var command = db.CreateCommand("SELECT coalesce(sum(count), 0)::bigint FROM metric_rollups_tagged_quarter WHERE name = $1");
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            return (long)(await command.ExecuteScalarAsync())!;
        }

        async Task ChangeQuartersAsync(string set)
        {
            await using var command = db.CreateCommand($"UPDATE metric_rollups_tagged_quarter SET {set} WHERE name = $1");
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            Assert.True(await command.ExecuteNonQueryAsync() > 0);
        }

        await Eventually.UntilAsync(QuarterCountAsync, n => n == points.Count, TimeSpan.FromSeconds(60),
            n => $"tagged quarter rollups held {n} of {points.Count} points", TimeSpan.FromMilliseconds(500));

        const string Chart = "period=24h&step=15m&groupBy=route&groupBy=status&agg=count";
        async Task<string> ChartAsync() => (await GetAsync($"/api/metrics/series?metric={name}&{Chart}"))["series"]!.ToJsonString();
        // env is no rollup key: this one reads raw rows.
        var raw = (await GetAsync($"/api/metrics/series?metric={name}&{Chart}&filter=env:test"))["series"]!.ToJsonString();
        Assert.Equal(raw, await ChartAsync());
        var p95 = await GetAsync($"/api/metrics/series?metric={name}&period=24h&step=15m&groupBy=route&agg=p95");
        var p95Raw = await GetAsync($"/api/metrics/series?metric={name}&period=24h&step=15m&groupBy=route&agg=p95&filter=env:test");
        Assert.Equal(points.Count, p95["series"]!.AsArray().Sum(s => s!["points"]!.AsArray().Sum(p => p!["count"]!.GetValue<long>())));
        Assert.Equal(p95Raw["series"]!.AsArray().Count, p95["series"]!.AsArray().Count);

        // The chart reads the quarter rows: a wrong count in them shows.
        await ChangeQuartersAsync("count = count + 1000");
        Assert.NotEqual(raw, await ChartAsync());
        // Rows whose minutes have changed since they were built (as after a late
        // point) are not read: the quarters' minutes answer, exactly.
        await ChangeQuartersAsync("source_count = source_count + 1");
        Assert.Equal(raw, await ChartAsync());
        // The compactor rebuilds them.
        await Eventually.UntilAsync(QuarterCountAsync, n => n == points.Count, TimeSpan.FromSeconds(60),
            n => $"rebuilt tagged quarter rollups held {n} of {points.Count} points", TimeSpan.FromMilliseconds(500));
        Assert.Equal(raw, await ChartAsync());
    }

    [Fact]
    public async Task ClosedTaggedRollups_ArePacked_AndAnswerAsTheirArraysDo_AndAnyLaterUpdateUnpacksThem()
    {
        var name = MetricsApi.UniqueName("exp");
        var random = new Random(29);
        var now = DateTimeOffset.UtcNow;
        // 100 minutes of points, ending 70 minutes ago: closed quarters (within
        // the compactor's 3 hours) and closed hours.
        var points = Enumerable.Range(0, 3000).Select(i => new Posted(
            $"/p{i % 3}", i % 5 == 0 ? "500" : "200", Math.Round(Math.Exp(2 + 3 * random.NextDouble()), 3),
            (now - TimeSpan.FromMinutes(70) - TimeSpan.FromSeconds(random.Next(0, 100 * 60))).ToUnixTimeMilliseconds()))
            .ToList();
        await PostAsync(name, points);

        await using var db = Npgsql.NpgsqlDataSource.Create(await fixture.ConnectionStringAsync("metricsdb"));
        var rows = new PackedSketchRows(db, name);
        string[] tables = ["metric_rollups_tagged_quarter", "metric_rollups_tagged_hour"];
        await rows.AllClosedPackedAsync("after storing", tables);
        // Quarter rows answer a 15-minute chart, hour rows a 1-hour one.
        string[] charts = ["period=24h&step=15m&groupBy=route&agg=p95", "period=24h&step=1h&groupBy=route&groupBy=status&agg=p99"];
        async Task<List<string>> ChartsAsync() =>
            [.. await Task.WhenAll(charts.Select(async c => (await GetAsync($"/api/metrics/series?metric={name}&{c}"))["series"]!.ToJsonString()))];
        var packed = await ChartsAsync();
        Assert.Equal(points.Count, JsonNode.Parse(packed[0])!.AsArray().Sum(s => s!["points"]!.AsArray().Sum(p => p!["count"]!.GetValue<long>())));

        // The compactor held, so that it packs nothing while the arrays answer.
        await using (await rows.HoldCompactorAsync())
        {
            // The charts read the packed sketches: a different one shows.
            foreach (var table in tables)
            {
                Assert.All(await rows.UpdateAsync(table, "sketch_packed = sketch_pack(ROW(ARRAY[101000], ARRAY[count])::sketch)"), Assert.NotNull);
            }

            Assert.NotEqual(packed, await ChartsAsync());

            // Any update that does not pack a row again unpacks it (a late
            // point, a rebuild): its arrays then answer, with the same figures.
            foreach (var table in tables) Assert.All(await rows.UpdateAsync(table, "count = count"), Assert.Null);
            Assert.Equal(packed, await ChartsAsync());
        }

        // The compactor packs them again.
        await rows.AllClosedPackedAsync("after unpacking", tables);
        Assert.Equal(packed, await ChartsAsync());
    }
}
