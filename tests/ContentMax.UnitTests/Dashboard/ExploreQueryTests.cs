using ContentMax.Contracts.Http;
using System.Security.Claims;
using ContentMax.Dashboard.Admin;
using ContentMax.Dashboard.Backend;
using ContentMax.Dashboard.Explore;
using Microsoft.Extensions.Time.Testing;

namespace ContentMax.UnitTests.Dashboard;

public class ExploreQueryTests
{
    [Fact]
    public void ALink_RoundTrips_ToTheSameView_AndTheSameApiCall()
    {
        var query = ExploreQuery.Parse("?metric=api_response_time&agg=p95&groupBy=route&filter=status:200&filter=method!%3DGET&period=6h&step=5m&limit=20");

        Assert.Equal("api_response_time", query.Metric);
        Assert.Equal("p95", query.Agg);
        Assert.Equal(["route"], query.GroupBy);
        Assert.Equal(["status:200", "method!=GET"], query.Filters);
        Assert.Equal("6h", query.Period);
        Assert.Equal("5m", query.Step);
        Assert.Equal(20, query.Limit);
        var again = ExploreQuery.Parse(query.ToQueryString());
        Assert.Equal(query.ToQueryString(), again.ToQueryString());
        Assert.Equal(query.Filters, again.Filters);
        Assert.Equal(
            "/api/metrics/series?metric=api_response_time&agg=p95&groupBy=route&filter=status%3A200&filter=method%21%3DGET&period=6h&step=5m&limit=20",
            query.SeriesPath);
    }

    [Fact]
    public void AHandEditedLink_FallsBackToDefaults_ForWhatItCannotUse()
    {
        var query = ExploreQuery.Parse("?metric=x&agg=p42&period=forever&step=0x&limit=900&groupBy=a&groupBy=b&groupBy=c&groupBy=a");

        Assert.Equal("p95", query.Agg);
        Assert.Equal("24h", query.Period);
        Assert.Null(query.Step);
        Assert.Equal(ExploreQuery.DefaultLimit, query.Limit);
        Assert.Equal(["a", "b"], query.GroupBy);
    }

    [Theory]
    [InlineData("status:200", "status", true, "200")]
    [InlineData("status!=500", "status", false, "500")]
    [InlineData("route:/api/a:b", "route", true, "/api/a:b")]
    [InlineData("note!=a:b", "note", false, "a:b")]
    [InlineData("url:http://x!=y", "url", true, "http://x!=y")]
    public void Filters_SplitWhereAggregationSplitsThem(string filter, string key, bool equal, string value) =>
        Assert.Equal((key, equal, value), ExploreQuery.SplitFilter(filter));

    [Fact]
    public void TheCurl_CarriesTheQuery_AndLeavesTheKeyToTheShell()
    {
        var curl = ExploreQuery.Parse("?metric=LCP&agg=p75&filter=page:/pricing").Curl("http://localhost:5182/");

        Assert.Equal("curl -s 'http://localhost:5182/api/metrics/series?metric=LCP&agg=p75&filter=page%3A%2Fpricing&period=24h' -H \"X-Api-Key: $CONTENTMAX_READ_KEY\"", curl);
    }

    [Fact]
    public void TheCsv_HasOneRowPerSeriesAndStep_WithTagColumns_AndQuotesWhatASpreadsheetWouldRun()
    {
        var query = ExploreQuery.Parse("?metric=m&agg=p95&groupBy=route");
        var start = new DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);
        var report = new SeriesResponse("m", "24h", "1h", start, start.AddHours(2), [], "p95", ["route"], [],
        [
            new ExplorerSeries(new() { ["route"] = "/a,b" }, "route=/a,b", false, 12.5, 3, [new ExplorerPoint(start, 3, 12.5), new ExplorerPoint(start.AddHours(1), 0, null)]),
            new ExplorerSeries(new() { ["route"] = "=cmd()" }, "route==cmd()", false, 1, 1, [new ExplorerPoint(start, 1, 1)]),
            new ExplorerSeries([], "other", true, 2, 1, [new ExplorerPoint(start, 1, 2)]),
        ], Truncated: false);

        var lines = ExploreCsv.Write(query, report).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(
        [
            "series,route,start,count,p95",
            "\"route=/a,b\",\"/a,b\",2026-11-29T12:00:00Z,3,12.5",
            "\"route=/a,b\",\"/a,b\",2026-11-29T13:00:00Z,0,",
            "route==cmd(),'=cmd(),2026-11-29T12:00:00Z,1,1",
            "other,,2026-11-29T12:00:00Z,1,2",
        ], lines);
    }

    [Fact]
    public void UsageRows_FoldRouteEndpointAndOther_AndAddUpToTheWhole()
    {
        static MetricAggregate Of(long count, double sum) => new(count, sum, 0, 0, sum / count, 0, 0, 0, 0);
        var parts = new Dictionary<string, List<MetricAggregate>>
        {
            ["/a"] = [Of(10, 100), Of(30, 900)],
        };
        var row = EndpointBreakdown.Combine(parts["/a"]);

        Assert.Equal(40, row.Count);
        Assert.Equal(25, row.Average);
        var breakdown = new EndpointBreakdown("api_response_time", new() { ["/a"] = row, [EndpointBreakdown.Untagged] = new(5, 1, 1), [EndpointBreakdown.Other] = new(7, 1, 1) });
        Assert.Equal(52, breakdown.Total);
    }

    [Fact]
    public void OperatorKeys_AreHeldForTheSessionLifetime_AndReleasedAtSignOut()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var keys = new OperatorKeys(time);
        var session = keys.Hold("secret-admin-key", TimeSpan.FromHours(12));
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(OperatorKeys.SessionClaim, session)], "test"));
        var stranger = new ClaimsPrincipal(new ClaimsIdentity([new Claim(OperatorKeys.SessionClaim, "guessed")], "test"));

        Assert.Equal("secret-admin-key", keys.KeyOf(user));
        Assert.Null(keys.KeyOf(stranger));
        Assert.DoesNotContain("secret", session);

        time.Advance(TimeSpan.FromHours(12));
        Assert.Null(keys.KeyOf(user));

        var again = new ClaimsPrincipal(new ClaimsIdentity([new Claim(OperatorKeys.SessionClaim, keys.Hold("k", TimeSpan.FromHours(1)))], "test"));
        keys.Release(again);
        Assert.Null(keys.KeyOf(again));
    }
}
