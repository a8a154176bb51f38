using System.Net.Sockets;

namespace ContentMax.HealthProbe.Checks;

// Turns an exception into a short reason fit for anonymous callers: never a
// connection string, host name, port or stack trace.
public static class ProbeErrors
{
    public static string Describe(Exception exception, TimeSpan timeout)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case OperationCanceledException or TimeoutException:
                    return $"timed out after {timeout.TotalSeconds:0.#}s";
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return "connection refused";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }:
                    return "host not found";
                case SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable }:
                    return "network unreachable";
                case SocketException socket:
                    return $"network error ({socket.SocketErrorCode})";
                case Npgsql.PostgresException postgres:
                    return $"database error {postgres.SqlState}";
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }:
                    return "host not found";
                case HttpRequestException { StatusCode: { } status }:
                    return $"answered HTTP {(int)status}";
            }
        }

        return exception switch
        {
            StackExchange.Redis.RedisConnectionException => "not connected",
            RabbitMQ.Client.Exceptions.BrokerUnreachableException => "broker unreachable",
            HttpRequestException => "request failed",
            _ => exception.GetType().Name,
        };
    }
}
