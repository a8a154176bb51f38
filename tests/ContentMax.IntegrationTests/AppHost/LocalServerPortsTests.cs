using System.Net;
using System.Net.Sockets;
using ContentMax.AppHost.LocalServers;

namespace ContentMax.IntegrationTests.AppHost;

// The local servers bind their ports seconds after the AppHost chose them, so a
// chosen port must be one that nothing else on the machine is handed meanwhile.
public class LocalServerPortsTests
{
    [Fact]
    public void AnyFreePort_IsDrawnOutsideTheEphemeralRange_AndNeverTwice()
    {
        var (low, high) = LocalServerPorts.EphemeralRange();
        var ports = Enumerable.Range(0, 300).Select(_ => LocalServerPorts.Resolve("Redis", 0)).ToList();

        Assert.All(ports, port => Assert.True(port < low || port > high, $"port {port} lies in the ephemeral range {low}-{high}"));
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.True(LocalPorts.IsFree(port), $"port {port} was handed out while held"));
    }

    [Fact]
    public void AConfiguredPortInUse_IsRefusedWithTheSettingToChange()
    {
        using var holder = new TcpListener(IPAddress.Loopback, LocalPorts.Free());
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var error = Assert.Throws<DistributedApplicationException>(() => LocalServerPorts.Resolve("Redis", port));

        Assert.Contains($"Port {port}", error.Message);
        Assert.Contains("Infrastructure:Ports:Redis", error.Message);
    }

    [Fact]
    public void AConfiguredFreePort_IsKept()
    {
        var port = LocalPorts.Free();

        Assert.Equal(port, LocalServerPorts.Resolve("Postgres", port));
    }
}
