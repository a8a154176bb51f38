using System.Net;
using ContentMax.Contracts;
using ContentMax.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ContentMax.Monitoring.Client.Tests;

// The ingestion API's wire format on 127.0.0.1:0: each body is read with the
// real MetricRequestParser (an invalid one gets 400, as from the server),
// recorded, and answered from a script (202 {"accepted":N} by default), so the
// tests assert on the bytes the client sent.
internal sealed class FakeIngestion : IAsyncDisposable
{
    public sealed record Arrival(DateTimeOffset At, byte[] Body, string? ApiKey, MetricParseResult Parsed, int Status)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);
    }

    private readonly WebApplication _app;
    private readonly List<Arrival> _arrivals = [];
    private readonly Func<int, (HttpStatusCode Status, TimeSpan? RetryAfter)> _answer;
    private int _calls;

    private FakeIngestion(WebApplication app, Func<int, (HttpStatusCode, TimeSpan?)> answer)
    {
        _app = app;
        _answer = answer;
    }

    public Uri BaseUrl => new(_app.Urls.First());

    public IReadOnlyList<Arrival> Arrivals
    {
        get
        {
            lock (_arrivals) return [.. _arrivals];
        }
    }

    // The points of every body that was answered 2xx, in arrival order.
    public IReadOnlyList<MetricPoint> Accepted => [.. Arrivals.Where(a => a.Status is >= 200 and < 300).SelectMany(a => a.Parsed.Points)];

    public static async Task<FakeIngestion> StartAsync(Func<int, (HttpStatusCode, TimeSpan?)>? answer = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeIngestion(app, answer ?? (_ => (HttpStatusCode.Accepted, null)));
        app.MapPost("/api/metrics", fake.ReceiveAsync);
        await app.StartAsync();
        return fake;
    }

    // A script: these answers first, then 202.
    public static Func<int, (HttpStatusCode, TimeSpan?)> Answers(params (HttpStatusCode Status, TimeSpan? RetryAfter)[] first) =>
        call => call < first.Length ? first[call] : (HttpStatusCode.Accepted, null);

    public async Task WaitForAsync(Func<FakeIngestion, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not met in time; {Arrivals.Count} bodies arrived: {string.Join(" | ", Arrivals.Select(a => a.Status))}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        var parsed = MetricRequestParser.Parse(bytes, DateTimeOffset.UtcNow);
        var (status, retryAfter) = parsed.IsValid ? _answer(Interlocked.Increment(ref _calls) - 1) : (HttpStatusCode.BadRequest, null);
        lock (_arrivals)
        {
            _arrivals.Add(new Arrival(DateTimeOffset.UtcNow, bytes, context.Request.Headers["X-Api-Key"].FirstOrDefault(), parsed, (int)status));
        }

        context.Response.StatusCode = (int)status;
        if (retryAfter is { } wait) context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status == HttpStatusCode.Accepted)
        {
            await context.Response.WriteAsJsonAsync(new { accepted = parsed.Points.Length });
        }
        else if (!parsed.IsValid)
        {
            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsync(string.Join("; ", parsed.Errors));
        }
    }
}
