using System.Text.Json.Nodes;
using ContentMax.ServiceDefaults.ErrorTracking;
using Sentry;
using Sentry.Protocol;
using static ContentMax.UnitTests.ErrorTrackingTestData;

namespace ContentMax.UnitTests;

public class ErrorTrackingRedactionTests
{
    private const string Filtered = SensitiveDataRedactor.Filtered;

    // Every secret below is planted in a different place an event can carry it.
    private static readonly string[] Secrets =
    [
        "header-auth-secret", "header-api-key-secret", "cookie-secret", "query-key-secret", "query-token-secret",
        "url-key-secret", "body-password-secret", "form-secret", "extra-password-secret", "extra-nested-secret",
        "extra-object-secret", "extra-url-secret", "context-secret", "context-key-secret", "response-cookie-secret",
        "breadcrumb-data-secret", "breadcrumb-url-secret", "breadcrumb-message-secret", "tag-secret", "tag-url-secret",
        "message-secret", "exception-secret", "dd-header-secret", "custom-field-secret",
    ];

    [Fact]
    public void BeforeSend_SecretsInEveryLocation_NeverReachTheSerializedEvent()
    {
        var sentryEvent = new SentryEvent(new InvalidOperationException("boom"))
        {
            Request = new SentryRequest
            {
                Method = "POST",
                Url = "http://localhost/api/nodes/7?key=url-key-secret",
                QueryString = "?key=query-key-secret&page=2&access_token=query-token-secret",
                Cookies = "session=cookie-secret",
                Data = """{"user":"ann","password":"body-password-secret","nested":{"apiKey":"form-secret"}}""",
            },
            Message = new SentryMessage { Formatted = "Request to http://x/y?token=message-secret failed" },
            SentryExceptions = [new SentryException { Type = "System.Exception", Value = "Connect failed: Password=exception-secret;Host=db" }],
        };
        sentryEvent.Request.Headers["Authorization"] = "Bearer header-auth-secret";
        sentryEvent.Request.Headers["X-Api-Key"] = "header-api-key-secret";
        sentryEvent.Request.Headers["DD-API-KEY"] = "dd-header-secret";
        sentryEvent.Request.Headers["Cookie"] = "session=cookie-secret";
        sentryEvent.Request.Headers["Accept"] = "application/json";
        sentryEvent.SetExtra("password", "extra-password-secret");
        sentryEvent.SetExtra("settings", new Dictionary<string, object?> { ["client_secret"] = "extra-nested-secret", ["retries"] = 3 });
        sentryEvent.SetExtra("request", new { Url = "/x", Token = "extra-object-secret" });
        sentryEvent.SetExtra("url", "http://localhost/api?key=extra-url-secret");
        sentryEvent.SetExtra("x-custom-field", "custom-field-secret");
        sentryEvent.Contexts["login"] = new Dictionary<string, string> { ["password"] = "context-secret", ["user"] = "ann" };
        sentryEvent.Contexts["session-token"] = "context-key-secret";
        sentryEvent.Contexts.Response.Cookies = "id=response-cookie-secret";
        sentryEvent.Contexts.Response.Headers["Set-Cookie"] = "id=response-cookie-secret";
        sentryEvent.AddBreadcrumb(new Breadcrumb("GET http://api/x?key=breadcrumb-url-secret", "http",
            new Dictionary<string, string> { ["url"] = "http://api/x?key=breadcrumb-url-secret", ["authorization"] = "breadcrumb-data-secret" }, "http"));
        sentryEvent.AddBreadcrumb(new Breadcrumb("logged in with token=breadcrumb-message-secret", "default"));
        sentryEvent.SetTag("auth_token", "tag-secret");
        sentryEvent.SetTag("referer", "http://localhost/?key=tag-url-secret");

        var callbacks = new SentryCallbacks(Identity, Redactor("x-custom-field"), new IgnoredExceptionFilter([]), () => false);
        var sent = callbacks.BeforeSend(sentryEvent);

        Assert.NotNull(sent);
        var json = Serialize(sent);
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, json);
        }

        // What is not secret survives, so the event is still useful.
        Assert.Equal("application/json", sent.Request.Headers["Accept"]);
        Assert.Contains("page=2", sent.Request.QueryString);
        Assert.Contains("\"user\":\"ann\"", (string)sent.Request.Data!);
        Assert.Equal(Filtered, sent.Request.Headers["Authorization"]);
        Assert.Equal(Filtered, sent.Request.Cookies);
        Assert.Equal("?key=[Filtered]&page=2&access_token=[Filtered]", sent.Request.QueryString);
        Assert.Equal("http://localhost/api/nodes/7?key=[Filtered]", sent.Request.Url);
    }

    [Fact]
    public void BeforeSendTransaction_SecretsInRequestTagsAndSpans_AreFiltered()
    {
        var transaction = new SentryTransaction("GET /api/nodes/{nodeId}", "http.server", TransactionNameSource.Route)
        {
            Request = new SentryRequest { QueryString = "?key=tx-query-secret" },
        };
        transaction.Request.Headers["X-Api-Key"] = "tx-header-secret";
        transaction.SetTag("api_key", "tx-tag-secret");
        transaction.SetData("db.connection", "Host=db;Password=tx-data-secret");

        var sent = Callbacks().BeforeSendTransaction(transaction);

        Assert.NotNull(sent);
        var json = Serialize(sent);
        foreach (var secret in new[] { "tx-query-secret", "tx-header-secret", "tx-tag-secret", "tx-data-secret" })
        {
            Assert.DoesNotContain(secret, json);
        }
    }

    [Theory]
    [InlineData("/api/metrics?key=abc123", "/api/metrics?key=[Filtered]")]
    [InlineData("?a=1&KEY=abc&b=2", "?a=1&KEY=[Filtered]&b=2")]
    [InlineData("?monkey=banana", "?monkey=banana")]
    [InlineData("Host=db;Port=5432;Username=app;Password=p4ss;", "Host=db;Port=5432;Username=app;Password=[Filtered];")]
    [InlineData("amqp://guest:hunter2@127.0.0.1:5672/", "amqp://guest:[Filtered]@127.0.0.1:5672/")]
    [InlineData("sent Authorization: Bearer eyJhbGciOi.x.y", "sent Authorization: Bearer [Filtered]")]
    [InlineData("nothing to see here", "nothing to see here")]
    public void ScrubText_FiltersSecretsAndKeepsTheRest(string text, string expected) =>
        Assert.Equal(expected, Redactor().ScrubText(text));

    [Theory]
    [InlineData("GET http://x/y?key=abc - 0")]
    [InlineData("Host=db;Password=p4ss;")]
    [InlineData("amqp://guest:hunter2@host/")]
    [InlineData("Bearer abc")]
    public void ScrubText_IsIdempotent(string text)
    {
        var once = Redactor().ScrubText(text);
        Assert.Equal(once, Redactor().ScrubText(once));
    }

    [Theory]
    [InlineData("Authorization", true)]
    [InlineData("X-Api-Key", true)]
    [InlineData("x_api_key", true)]
    [InlineData("DD-API-KEY", true)]
    [InlineData("apikey", true)]
    [InlineData("Cookie", true)]
    [InlineData("Set-Cookie", true)]
    [InlineData("client_secret", true)]
    [InlineData("refresh_token", true)]
    [InlineData("new-password", true)]
    [InlineData("key", true)]
    [InlineData("Accept", false)]
    [InlineData("monkey", false)]
    [InlineData("user_id", false)]
    public void IsSensitive_DefaultDenyList(string name, bool sensitive) =>
        Assert.Equal(sensitive, Redactor().IsSensitive(name));

    [Fact]
    public void IsSensitive_ConfiguredFieldsAddToTheDefaults()
    {
        var redactor = Redactor("session_id");
        Assert.True(redactor.IsSensitive("Session-Id"));
        Assert.True(redactor.IsSensitive("password"));
    }

    [Fact]
    public void RedactValue_JsonAndNestedCollections_AreWalkedByName()
    {
        var value = JsonNode.Parse("""{"items":[{"token":"t1","id":1}],"note":"see ?key=k1"}""");

        var redacted = (JsonNode)Redactor().RedactValue(value)!;

        Assert.Equal("""{"items":[{"token":"[Filtered]","id":1}],"note":"see ?key=[Filtered]"}""", redacted.ToJsonString());
        Assert.Contains("t1", value!.ToJsonString()); // The caller's object is left alone.
    }

    [Fact]
    public void BeforeSend_AddsServiceTagsAndContext()
    {
        var sent = Callbacks().BeforeSend(new SentryEvent(new InvalidOperationException("x")))!;

        Assert.Equal("ingestion", sent.Tags["service"]);
        Assert.Equal("0.1.0+abc123", sent.Tags["version"]);
        Assert.Equal("test-host", sent.Tags["host"]);
        Assert.Equal("ingestion", sent.Contexts.App.Name);
        Assert.Contains("\"service\":{", Serialize(sent));
    }

    [Fact]
    public void ServiceIdentity_ReleaseIsContentmaxAtInformationalVersion()
    {
        Assert.Equal("contentmax@0.1.0+abc123", Identity.Release);
        var version = ServiceIdentity.InformationalVersion(typeof(ServiceIdentity).Assembly);
        Assert.StartsWith("0.1.0", version);
    }
}
