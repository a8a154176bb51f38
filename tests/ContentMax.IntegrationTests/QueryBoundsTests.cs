using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ContentMax.IntegrationTests;

// What a metrics query may cost aggregation: a few at once, each for a while,
// and dashboards that write the same period differently share one cache entry.
[Collection(AppHostCollection.Name)]
public class QueryBoundsTests(AppHostFixture fixture, ITestOutputHelper output)
{
    private readonly HttpClient _reader = fixture.Client("aggregation", AppHostFixture.ReadKey);

    [Fact]
    public async Task TheSamePeriodWrittenTwoWays_SharesOneCacheEntry_AndEachAnswerNamesItsOwn()
    {
        var padded = await _reader.GetFromJsonAsync<JsonObject>("/api/metrics?period=024h");
        var plain = await _reader.GetFromJsonAsync<JsonObject>("/api/metrics?period=24h");

        Assert.Equal("024h", padded!["period"]!.GetValue<string>());
        Assert.Equal("24h", plain!["period"]!.GetValue<string>());
        // The second was answered from the first one's entry: the same window, to the tick.
        Assert.Equal(padded["from"]!.GetValue<DateTimeOffset>(), plain["from"]!.GetValue<DateTimeOffset>());
        await using var redis = await ConnectionMultiplexer.ConnectAsync(await fixture.ConnectionStringAsync("cache"));
        var db = redis.GetDatabase();
        Assert.True(await db.KeyExistsAsync($"contentmax:query:aggregates:{TimeSpan.FromHours(24).Ticks}:500"));
        Assert.False(await db.KeyExistsAsync("contentmax:query:aggregates:024h"));
        Assert.False(await db.KeyExistsAsync("contentmax:query:aggregates:24h"));
    }

    // Without metric=, the answer holds at most `limit` names, those with the
    // most observations, and says how many there were.
    [Fact]
    public async Task AllNames_AreCappedAtTheLimit_WithTheTotalAndTruncatedSaid()
    {
        using var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        var busy = MetricsApi.UniqueName("busy");
        var quiet = MetricsApi.UniqueName("quiet");
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsJsonAsync("/api/metrics",
            Enumerable.Range(0, 50).Select(i => new { metric = busy, value = i }).Append(new { metric = quiet, value = 1 }).ToArray())).StatusCode);
        await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>($"/api/metrics?period=1h&metric={busy}")!,
            b => b!["metrics"]![busy]?["count"]?.GetValue<long>() == 50, TimeSpan.FromSeconds(30), b => $"{b}");

        var capped = await Eventually.UntilAsync(() => _reader.GetFromJsonAsync<JsonObject>("/api/metrics?period=1h&limit=1")!,
            b => b!["totalNames"]!.GetValue<int>() >= 2, TimeSpan.FromSeconds(15), b => $"{b}");

        Assert.True(capped!["truncated"]!.GetValue<bool>());
        Assert.Single(capped["metrics"]!.AsObject());
        using var invalid = await _reader.GetAsync("/api/metrics?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    // The metrics table locked (as a long migration or a runaway statement
    // would): the first queries wait their QueryTimeout and are cancelled, the
    // next few queue, and the rest are turned away at once; every refusal is a
    // 503 with Retry-After that says which limit it met. Then queries answer again.
    [Fact]
    public async Task QueriesBeyondTheLimits_Get503WithRetryAfter_AndNothingWaitsForever()
    {
        await using var connection = await fixture.OpenDatabaseAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var answers = new List<(HttpStatusCode Status, string? RetryAfter, string? ContentType, string Body)>();
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
            {
                using var response = await _reader.GetAsync($"/api/metrics/series?metric=bounds_{i}&period=1h");
                return (response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(), response.Content.Headers.ContentType?.MediaType,
                    await response.Content.ReadAsStringAsync());
            })));
            output.WriteLine($"all answered after {started.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
        }

        foreach (var group in answers.GroupBy(a => (a.Status, a.RetryAfter))) output.WriteLine($"{group.Count()} × {group.Key}: {group.First().Body}");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        var turnedAway = answers.Where(a => a.Body.Contains("metrics queries are running", StringComparison.Ordinal)).ToList();
        var timedOut = answers.Where(a => a.Body.Contains("took longer than 10s", StringComparison.Ordinal)).ToList();
        Assert.Equal(20 - AppHostFixture.MaxConcurrentQueries - AppHostFixture.QueryQueueLimit, turnedAway.Count);
        Assert.Equal(AppHostFixture.MaxConcurrentQueries + AppHostFixture.QueryQueueLimit, timedOut.Count);
        Assert.All(turnedAway, a => Assert.Equal("1", a.RetryAfter));
        Assert.All(timedOut, a => Assert.Equal("5", a.RetryAfter));
        Assert.All(answers, a => Assert.Equal("application/problem+json", a.ContentType));

        using var after = await _reader.GetAsync("/api/metrics/series?metric=bounds_0&period=1h");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
