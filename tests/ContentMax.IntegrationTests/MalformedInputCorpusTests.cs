using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ContentMax.IntegrationTests;

// Hundreds of malformed requests against the real ingestion and query APIs:
// every one gets a 4xx problem+json that names the problem, none gets a 5xx,
// nothing is stored, and every service is still healthy afterwards.
[Collection(AppHostCollection.Name)]
public class MalformedInputCorpusTests(AppHostFixture fixture)
{
    // A marker in every metric name of the corpus: if anything were stored, a
    // query for these names would find it.
    private static readonly string Marker = "corpus" + Guid.NewGuid().ToString("N")[..10];

    private sealed record Case(string Name, byte[] Body, string ContentType = "application/json");

    private static Case Json(string name, string json, string contentType = "application/json") => new(name, Encoding.UTF8.GetBytes(json), contentType);

    private static IEnumerable<Case> IngestionCorpus()
    {
        var m = Marker;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Invalid JSON.
        foreach (var (i, text) in new[] { "{", "}", "[", "[{]", "{\"metric\":}", "{metric:\"a\"}", "{'metric':'a','value':1}", "[1,]", "{\"metric\":\"a\",\"value\":1,}",
                     "nul", "tru", "\"just a string\"", "{\"metric\":\"a\" \"value\":1}", "/* comment */ {}", "{\"metric\":\"a\",\"value\":01}", "{\"metric\":\"a\",\"value\":.5}",
                     "{\"metric\":\"a\",\"value\":+1}", "{\"metric\":\"a\",\"value\":0x10}", "\u0000", "   ", "{\"metric\":\"a\",\"value\":1}{\"metric\":\"b\",\"value\":2}" }.Index())
        {
            yield return Json($"invalid-json-{i}", text);
        }

        // Wrong types for every field.
        foreach (var (i, value) in new[] { "\"1\"", "null", "true", "[1]", "{\"v\":1}", "\"NaN\"", "\"Infinity\"" }.Index())
        {
            yield return Json($"value-type-{i}", $$$"""{"metric":"{{{m}}}","value":{{{value}}}}""");
        }

        foreach (var (i, value) in new[] { "1", "null", "true", "[\"a\"]", "{}", "\"\"" }.Index())
        {
            yield return Json($"metric-type-{i}", $$"""{"metric":{{value}},"value":1}""");
        }

        foreach (var (i, value) in new[] { "\"now\"", "1.5", "true", "[1]", "-1", "0", "99999999999999999999", "1e30" }.Index())
        {
            yield return Json($"timestamp-{i}", $$$"""{"metric":"{{{m}}}","value":1,"timestamp":{{{value}}}}""");
        }

        foreach (var (i, value) in new[] { "1", "\"not-a-uuid\"", "\"00000000-0000-0000-0000-000000000000\"", "true", "{}" }.Index())
        {
            yield return Json($"id-{i}", $$$"""{"metric":"{{{m}}}","value":1,"id":{{{value}}}}""");
        }

        foreach (var (i, value) in new[] { "1", "\"a\"", "[]", "{\"k\":null}", "{\"k\":[1]}", "{\"k\":{\"n\":1}}", "{\"\":\"v\"}" }.Index())
        {
            yield return Json($"tags-{i}", $$$"""{"metric":"{{{m}}}","value":1,"tags":{{{value}}}}""");
        }

        foreach (var (i, field) in new[] { "url", "userAgent" }.Index())
        {
            yield return Json($"{field}-type", $$"""{"metric":"{{m}}","value":1,"{{field}}":5}""");
            yield return Json($"{field}-long", $$"""{"metric":"{{m}}","value":1,"{{field}}":"{{new string('u', 2049)}}"}""");
            yield return Json($"{field}-control", $$"""{"metric":"{{m}}","value":1,"{{field}}":"a\u0007b"}""");
        }

        // Numbers out of range.
        foreach (var (i, value) in new[] { "1e309", "-1e309", "1e99999", "NaN", "Infinity", "-Infinity" }.Index())
        {
            yield return Json($"value-range-{i}", $$$"""{"metric":"{{{m}}}","value":{{{value}}}}""");
        }

        // Names: control characters, 10k characters, bad starts, bad characters, injection.
        foreach (var (i, name) in new[]
                 {
                     "", "1abc", "_abc", "-abc", ".abc", "a b", "a/b", "a\\\\b", "a\\u0000b", "a\\nb", "a\\tb", "é", "a\\u200bb", "a;DROP TABLE metrics;--",
                     "a'); DELETE FROM metrics; --", "<script>alert(1)</script>", "a\\\"b", new string('a', 201), new string('a', 10_000),
                 }.Index())
        {
            yield return Json($"name-{i}", $$"""{"metric":"{{name}}","value":1}""");
        }

        // Tags: injection strings are fine as values (stored safely) but these break limits.
        yield return Json("tag-key-long", $$$"""{"metric":"{{{m}}}","value":1,"tags":{"{{{new string('k', 101)}}}":"v"}}""");
        yield return Json("tag-key-10k", $$$"""{"metric":"{{{m}}}","value":1,"tags":{"{{{new string('k', 10_000)}}}":"v"}}""");
        yield return Json("tag-value-long", $$$"""{"metric":"{{{m}}}","value":1,"tags":{"k":"{{{new string('v', 201)}}}"}}""");
        yield return Json("tag-value-control", $$$"""{"metric":"{{{m}}}","value":1,"tags":{"k":"a\u0001b"}}""");
        yield return Json("tag-key-control", $$$"""{"metric":"{{{m}}}","value":1,"tags":{"a\nb":"v"}}""");
        yield return Json("tags-too-many", $$$"""{"metric":"{{{m}}}","value":1,"tags":{{{string.Join(",", Enumerable.Range(0, 33).Select(t => $"\"k{t}\":\"v\""))}}}}""");
        yield return Json("tag-duplicate", $$$"""{"metric":"{{{m}}}","value":1,"tags":{"k":"a","k":"b"}}""");
        foreach (var (i, injection) in new[] { "' OR 1=1 --", "\\\"; DROP TABLE metrics; --", "<img src=x onerror=alert(1)>", "${jndi:ldap://x}" }.Index())
        {
            // Injection text in a tag of an otherwise invalid metric: still rejected as a whole.
            yield return Json($"tag-injection-{i}", $$$"""{"metric":"{{{m}}}","value":"x","tags":{"k":"{{{injection}}}"}}""");
        }

        // Structure: deep nesting, empty and huge arrays, wrong roots, unknown and duplicate fields.
        yield return Json("deep-nesting-array", new string('[', 100) + new string(']', 100));
        yield return Json("deep-nesting-object", string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100));
        yield return Json("deep-nesting-tags", "{\"metric\":\"" + m + "\",\"value\":1,\"tags\":" + string.Concat(Enumerable.Repeat("{\"a\":", 7)) + "1" + new string('}', 8));
        yield return Json("empty-array", "[]");
        yield return Json("empty-object", "{}");
        yield return Json("array-of-numbers", "[1,2,3]");
        yield return Json("array-of-nulls", "[null]");
        yield return Json("array-of-arrays", "[[{\"metric\":\"a\",\"value\":1}]]");
        yield return Json("number-root", "42");
        yield return Json("string-root", "\"metric\"");
        yield return Json("null-root", "null");
        yield return Json("unknown-field", $$"""{"metric":"{{m}}","value":1,"vaule":2}""");
        yield return Json("duplicate-field", $$"""{"metric":"{{m}}","value":1,"value":2}""");
        yield return Json("huge-array-1001", "[" + string.Join(",", Enumerable.Repeat($$"""{"metric":"{{m}}","value":1}""", 1001)) + "]");
        yield return Json("huge-array-100k", "[" + string.Join(",", Enumerable.Repeat("{}", 100_000)) + "]");

        // Batches where one item of many is bad, and duplicate ids inside one batch.
        foreach (var bad in new[] { 0, 1, 499, 999 })
        {
            var items = Enumerable.Range(0, 1000).Select(i => i == bad ? "{\"metric\":\"x\",\"value\":\"bad\"}" : $$$"""{"metric":"{{{m}}}","value":{{{i}}}}""");
            yield return Json($"batch-bad-item-{bad}", "[" + string.Join(",", items) + "]");
        }

        var twin = Guid.NewGuid();
        yield return Json("duplicate-ids", $$"""[{"metric":"{{m}}","value":1,"id":"{{twin}}"},{"metric":"{{m}}","value":2,"id":"{{twin}}"}]""");
        yield return Json("duplicate-ids-case", $$"""[{"metric":"{{m}}","value":1,"id":"{{twin}}"},{"metric":"{{m}}","value":2,"id":"{{twin.ToString().ToUpperInvariant()}}"}]""");

        // Timestamps out of range.
        foreach (var (i, ts) in new[] { now - (long)TimeSpan.FromDays(8).TotalMilliseconds, now + (long)TimeSpan.FromHours(1).TotalMilliseconds, long.MinValue, long.MaxValue, -1L }.Index())
        {
            yield return Json($"timestamp-range-{i}", $$$"""{"metric":"{{{m}}}","value":1,"timestamp":{{{ts}}}}""");
        }

        // Bodies: invalid UTF-8, wrong content types, 10 MB.
        yield return new Case("invalid-utf8", [.. Encoding.UTF8.GetBytes("{\"metric\":\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\",\"value\":1}")]);
        yield return new Case("invalid-utf8-overlong", [.. Encoding.UTF8.GetBytes("{\"metric\":\"a"), 0xC0, 0xAF, .. Encoding.UTF8.GetBytes("\",\"value\":1}")]);
        yield return new Case("invalid-utf8-surrogate", [.. Encoding.UTF8.GetBytes("{\"metric\":\"a"), 0xED, 0xA0, 0x80, .. Encoding.UTF8.GetBytes("\",\"value\":1}")]);
        yield return new Case("utf16-body", Encoding.Unicode.GetBytes($$"""{"metric":"{{m}}","value":1}"""));
        yield return new Case("binary-garbage", Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 % 256)).ToArray());
        yield return Json("form-content-type", $$"""{"metric":"{{m}}","value":1}""", "application/x-www-form-urlencoded");
        yield return Json("xml-content-type", $$"""{"metric":"{{m}}","value":1}""", "application/xml");
        yield return Json("multipart-content-type", $$"""{"metric":"{{m}}","value":1}""", "multipart/form-data; boundary=x");
        yield return new Case("ten-megabytes", Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat($$"""{"metric":"{{m}}","value":1}""", 10 * 1024 * 1024 / 40)) + "]"));
        yield return new Case("one-mebibyte-and-one", Encoding.UTF8.GetBytes(new string(' ', 1024 * 1024) + "{}"));
    }

    [Fact]
    public async Task MalformedIngestion_Is4xxProblemJson_NeverStoredOr5xx()
    {
        using var client = fixture.Client("ingestion", AppHostFixture.IngestKey);
        var cases = IngestionCorpus().ToList();
        // Every invalid single object again as the second item of a batch: the
        // valid first item must not be stored either.
        cases.AddRange(cases
            .Where(c => c.ContentType == "application/json" && c.Body.Length < 64 * 1024 && c.Body.Length > 0 && c.Body[0] == (byte)'{' && !c.Name.StartsWith("invalid", StringComparison.Ordinal))
            .Select(c => new Case(c.Name + "-in-batch", [.. Encoding.UTF8.GetBytes($$"""[{"metric":"{{Marker}}","value":1},"""), .. c.Body, (byte)']']))
            .ToList());
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var content = new ByteArrayContent(c.Body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(c.ContentType);
            using var response = await client.PostAsync("/api/metrics", content);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status is < 400 or >= 500) failures.Add($"{c.Name}: {status} {text[..Math.Min(200, text.Length)]}");
            else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") failures.Add($"{c.Name}: {status} without problem+json");
            else if (!text.Contains("\"detail\"") && !text.Contains("\"errors\"")) failures.Add($"{c.Name}: {status} names no problem: {text}");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(cases.Count >= 200, $"{cases.Count} ingestion cases");
        await AssertNothingStoredAndAllHealthyAsync();
    }

    public static IEnumerable<string> QueryCorpus()
    {
        foreach (var period in new[] { "x", "24", "h", "0h", "-1h", "1.5h", "1y", "24H", "%00", "1h;DROP TABLE metrics", "99999999999d", "3651d", "1h%20", "' OR 1=1 --" })
        {
            yield return $"/api/metrics?period={Uri.EscapeDataString(period)}";
            yield return $"/api/metrics/series?metric=a&period={Uri.EscapeDataString(period)}";
            yield return $"/api/metrics/raw?period={Uri.EscapeDataString(period)}";
        }

        foreach (var limit in new[] { "-1", "0", "1001", "abc", "1.5", "99999999999999999999", "%00" })
        {
            yield return $"/api/metrics/raw?limit={Uri.EscapeDataString(limit)}";
        }

        foreach (var name in new[] { "9a", "a b", "<script>", "a'--", new string('a', 10_000), "\u0001" })
        {
            yield return $"/api/metrics?metric={Uri.EscapeDataString(name)}";
            yield return $"/api/metrics/series?metric={Uri.EscapeDataString(name)}";
        }

        foreach (var step in new[] { "0m", "1w", "abc", "1s", "-5m" })
        {
            yield return $"/api/metrics/series?metric=a&period=30d&step={Uri.EscapeDataString(step)}";
        }

        foreach (var cursor in new[] { "garbage", "!!!", "MTIz", Convert.ToBase64String(Encoding.UTF8.GetBytes("99999999999999999999:xyz")), new string('A', 5000) })
        {
            yield return $"/api/metrics/raw?cursor={Uri.EscapeDataString(cursor)}";
        }

        yield return "/api/metrics/series";
        yield return "/api/metrics/breakdown?metric=a";
        yield return "/api/metrics/breakdown?tag=endpoint";
        yield return "/api/metrics/breakdown?metric=a&tag=" + new string('t', 101);
    }

    [Fact]
    public async Task MalformedQueries_Are400ProblemJson_Never5xx()
    {
        using var client = fixture.Client("aggregation", AppHostFixture.ReadKey);
        var failures = new List<string>();
        var urls = QueryCorpus().ToList();
        foreach (var url in urls)
        {
            using var response = await client.GetAsync(url);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !text.Contains("\"errors\""))
            {
                failures.Add($"{url[..Math.Min(120, url.Length)]}: {(int)response.StatusCode} {text[..Math.Min(200, text.Length)]}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(urls.Count >= 60, $"{urls.Count} query cases");
    }

    private async Task AssertNothingStoredAndAllHealthyAsync()
    {
        // A valid sentinel goes through the same pipe; once it is stored, anything accepted before it would be too.
        using var ingestion = fixture.Client("ingestion", AppHostFixture.IngestKey);
        using var aggregation = fixture.Client("aggregation", AppHostFixture.ReadKey);
        var sentinel = MetricsApi.UniqueName();
        Assert.Equal(HttpStatusCode.Accepted, (await ingestion.PostAsync(new { metric = sentinel, value = 1 })).StatusCode);
        await aggregation.WaitForCountAsync(sentinel, 1);

        var raw = await aggregation.GetStringAsync("/api/metrics/raw?period=1h&limit=1000");
        Assert.DoesNotContain(Marker, raw);
        foreach (var service in new[] { "ingestion", "aggregation" })
        {
            using var client = fixture.Client(service, key: null);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        }
    }
}
