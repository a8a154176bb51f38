using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;

namespace ContentMax.HealthProbe.Checks;

// Turns an exception into a short reason fit for anonymous callers. Exception
// messages carry connection strings, host names and ports, so none is ever
// copied: the reason is chosen from the exception's type and error code only.
public static class ProbeErrors
{
    public static string Describe(Exception exception, TimeSpan timeout)
    {
        // The outermost exception that says something specific wins; wrappers
        // (NpgsqlException, HttpRequestException, BrokerUnreachableException)
        // usually carry the real cause further in.
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case OperationCanceledException or TimeoutException:
                    return TimedOut(timeout);
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return "connection refused";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }:
                    return "host not found";
                case SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable }:
                    return "network unreachable";
                case SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown }:
                    return "connection lost";
                case SocketException socket:
                    return $"network error ({socket.SocketErrorCode})";
                case Npgsql.PostgresException postgres:
                    // SQLSTATE codes are public and name the failure class, never a host.
                    return $"database error {postgres.SqlState}";
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }:
                    return "host not found";
                case HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } or AuthenticationException:
                    return "TLS handshake failed";
                case HttpRequestException { StatusCode: { } status }:
                    return $"answered HTTP {(int)status}";
                case RabbitMQ.Client.Exceptions.AuthenticationFailureException:
                    return "authentication failed";
                case IOException when ex.InnerException is null:
                    // Only a leaf: wrappers such as BrokerUnreachableException are IOExceptions too.
                    return "connection lost";
            }
        }

        return exception switch
        {
            StackExchange.Redis.RedisConnectionException => "not connected",
            RabbitMQ.Client.Exceptions.BrokerUnreachableException => "broker unreachable",
            RabbitMQ.Client.Exceptions.AlreadyClosedException => "connection closed",
            Npgsql.NpgsqlException => "connection failed",
            HttpRequestException => "request failed",
            _ => exception.GetType().Name,
        };
    }

    public static string TimedOut(TimeSpan timeout) =>
        string.Create(CultureInfo.InvariantCulture, $"timed out after {timeout.TotalSeconds:0.#}s");
}
