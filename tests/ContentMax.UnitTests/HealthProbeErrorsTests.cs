using System.Net.Sockets;
using System.Security.Authentication;
using ContentMax.HealthProbe.Checks;

namespace ContentMax.UnitTests;

// Errors reach anonymous callers of /api/health, so whatever an exception's
// message says, only a short reason may come out.
public class HealthProbeErrorsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public static TheoryData<Exception, string> Cases() => new()
    {
        { new OperationCanceledException(), "timed out after 2s" },
        { new Npgsql.NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")), "timed out after 2s" },
        { new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5190", new SocketException((int)SocketError.ConnectionRefused)), "connection refused" },
        { new Npgsql.NpgsqlException("Exception while reading from stream", new EndOfStreamException("Attempted to read past the end of the stream.")), "connection lost" },
        { new Npgsql.NpgsqlException("Host=db.internal;Password=secret broke"), "connection failed" },
        { new Npgsql.PostgresException("relation \"schema_migrations\" does not exist", "ERROR", "ERROR", "42P01"), "database error 42P01" },
        { new HttpRequestException(HttpRequestError.NameResolutionError, "No such host is known (www.googleapis.com:443)"), "host not found" },
        { new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established (shopify.com)",
            new AuthenticationException("remote certificate for www.shopify.com is invalid")), "TLS handshake failed" },
        { new HttpRequestException("Connection refused (ingestion:5181)", new SocketException((int)SocketError.ConnectionRefused)), "connection refused" },
        { new HttpRequestException("Response status code does not indicate success: 502 (Bad Gateway).", null, System.Net.HttpStatusCode.BadGateway), "answered HTTP 502" },
        { new HttpRequestException("An error occurred while sending the request to http://10.0.0.7:8080/."), "request failed" },
        { new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect, "127.0.0.1:5191 password=secret"), "not connected" },
        { new StackExchange.Redis.RedisTimeoutException("Timeout performing PING (5000ms), inst: 0, 127.0.0.1:5191", StackExchange.Redis.CommandStatus.Sent), "timed out after 2s" },
        { new RabbitMQ.Client.Exceptions.BrokerUnreachableException(new SocketException((int)SocketError.ConnectionRefused)), "connection refused" },
        { new RabbitMQ.Client.Exceptions.BrokerUnreachableException(new InvalidOperationException("amqp://guest:secret@127.0.0.1:5192")), "broker unreachable" },
        { new InvalidOperationException("Host=db;Password=secret"), "InvalidOperationException" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Describe_SaysWhatHappened_WithoutHostsSecretsOrStacks(Exception exception, string expected)
    {
        var described = ProbeErrors.Describe(exception, Timeout);

        Assert.Equal(expected, described);
        foreach (var leak in new[] { "127.0.0.1", "10.0.0.7", "5190", "5191", "5192", "googleapis", "shopify", "ingestion", "Host=", "assword", "secret", " at " })
        {
            Assert.DoesNotContain(leak, described, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void TimedOut_UsesTheInvariantCulture()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("timed out after 1.5s", ProbeErrors.TimedOut(TimeSpan.FromMilliseconds(1500)));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }
}
