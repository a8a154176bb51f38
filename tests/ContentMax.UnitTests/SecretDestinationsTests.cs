using System.Net;
using System.Net.Sockets;
using System.Text;
using ContentMax.ServiceDefaults;

namespace ContentMax.UnitTests;

// Webhook receivers: where they may point, and that a redirect never takes a
// notification (or its headers) elsewhere.
public class SecretDestinationsTests
{
    [Theory]
    [InlineData("169.254.169.254", false, "link-local")]
    [InlineData("169.254.169.254", true, "link-local")]
    [InlineData("::ffff:169.254.169.254", true, "link-local")]
    [InlineData("fd00:ec2::254", true, "cloud metadata")]
    [InlineData("fe80::1", true, "link-local")]
    [InlineData("127.0.0.1", false, "loopback")]
    [InlineData("::1", false, "loopback")]
    [InlineData("10.1.2.3", false, "private")]
    [InlineData("172.20.0.1", false, "private")]
    [InlineData("192.168.1.10", false, "private")]
    [InlineData("fd12:3456::1", false, "private")]
    [InlineData("0.0.0.0", true, "unspecified")]
    public void Refused(string address, bool allowPrivate, string reason)
    {
        Assert.StartsWith(reason, SecretDestinations.Refusal(IPAddress.Parse(address), allowPrivate));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.1")]
    [InlineData("192.168.1.10")]
    [InlineData("fd12:3456::1")]
    public void PrivateNetworks_OnlyWhenAllowed(string address)
    {
        Assert.NotNull(SecretDestinations.Refusal(IPAddress.Parse(address), allowPrivateNetworks: false));
        Assert.Null(SecretDestinations.Refusal(IPAddress.Parse(address), allowPrivateNetworks: true));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2001:4860:4860::8888")]
    public void PublicAddresses_Allowed(string address)
    {
        Assert.Null(SecretDestinations.Refusal(IPAddress.Parse(address), allowPrivateNetworks: false));
    }

    [Fact]
    public async Task ARedirect_IsNotFollowed_SoNeitherBodyNorHeadersReachAnotherHost()
    {
        using var elsewhere = new TcpListener(IPAddress.Loopback, 0);
        elsewhere.Start();
        var elsewherePort = ((IPEndPoint)elsewhere.LocalEndpoint).Port;
        using var receiver = new TcpListener(IPAddress.Loopback, 0);
        receiver.Start();
        var answering = Task.Run(async () =>
        {
            using var client = await receiver.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[8192];
            _ = await stream.ReadAsync(buffer);
            var response = $"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{elsewherePort}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
        });
        using var http = SecretDestinations.CreateClient(() => true);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{((IPEndPoint)receiver.LocalEndpoint).Port}/hook")
        {
            Content = new StringContent("{}"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer secret");

        using var response = await http.SendAsync(request);
        await answering;

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        await Task.Delay(200);
        Assert.False(elsewhere.Pending(), "the redirect was followed");
    }

    [Fact]
    public async Task ALoopbackReceiver_IsRefusedUnlessAllowed()
    {
        using var http = SecretDestinations.CreateClient(() => false);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync("http://127.0.0.1:9/hook", new StringContent("{}")));

        Assert.Contains("refused: the receiver's address is loopback", error.ToString());
    }
}
