using System.Net;
using System.Net.Sockets;

namespace ContentMax.ServiceDefaults;

// Outbound calls whose URL is itself a secret (a Slack webhook carries its token
// in the path) and whose target an operator, not ContentMax, chose.
//
// - The URL appears nowhere: the client is not made by IHttpClientFactory (whose
//   handlers log the full URI and leave Sentry breadcrumbs), and its requests
//   are left out of HTTP client traces (see ConfigureOpenTelemetry).
// - Redirects are never followed, so neither the body nor custom headers reach
//   a host other than the configured one.
// - Link-local and cloud metadata addresses are always refused; loopback and
//   private ranges only when allowed (AllowPrivateNetworks), checked on the
//   address actually connected to, so DNS cannot point around the rule.
public static class SecretDestinations
{
    public static readonly HttpRequestOptionsKey<bool> SecretUrl = new("contentmax.secret-url");

    public static bool IsSecret(HttpRequestMessage request) =>
        request.Options.TryGetValue(SecretUrl, out var secret) && secret;

    public static HttpClient CreateClient(Func<bool> allowPrivateNetworks) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
            var allowPrivate = allowPrivateNetworks();
            var allowed = addresses.Where(a => Refusal(a, allowPrivate) is null).ToArray();
            if (allowed.Length == 0)
            {
                throw new RefusedDestinationException(
                    $"refused: the receiver's address is {Refusal(addresses.FirstOrDefault() ?? IPAddress.None, allowPrivate) ?? "unresolvable"}");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    // Why an address may not be called, or null when it may.
    public static string? Refusal(IPAddress address, bool allowPrivateNetworks)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.Equals(IPAddress.None) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return "unspecified";
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            if (bytes[0] == 169 && bytes[1] == 254) return "link-local (cloud metadata lives there)";
            if (allowPrivateNetworks) return null;
            if (bytes[0] == 127) return "loopback";
            if (bytes[0] == 10 || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16) || (bytes[0] == 192 && bytes[1] == 168)) return "private";
            if (bytes[0] == 100 && (bytes[1] & 0xC0) == 64) return "private (carrier-grade NAT)";
            if (bytes[0] == 0) return "unspecified";
            return null;
        }

        if (address.IsIPv6LinkLocal) return "link-local";
        if (address.Equals(AwsMetadataV6)) return "cloud metadata";
        if (allowPrivateNetworks) return null;
        if (IPAddress.IsLoopback(address)) return "loopback";
        if (address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal) return "private";
        return null;
    }

    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");
}

// A destination the rules above do not allow; HttpClient hands it on as the
// inner exception of its HttpRequestException.
public sealed class RefusedDestinationException(string message) : Exception(message);
