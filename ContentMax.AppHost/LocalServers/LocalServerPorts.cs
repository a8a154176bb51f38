using System.Net;
using System.Net.Sockets;

namespace ContentMax.AppHost.LocalServers;

// Ports from configuration. 0 asks for any free port, which is what test runs
// use so that they can run beside a developer's instance.
//
// A free port is drawn below the kernel's ephemeral range, never from it. The
// port is only reserved by the server once its process binds it, seconds later;
// a port from the ephemeral range (what binding to port 0 hands out) can be
// taken in between by any outgoing connection or port-0 listener on the
// machine, and the server then fails with "Address already in use". Ports
// handed out are not handed out again by this process, so servers whose ports
// are drawn together never share one.
internal static class LocalServerPorts
{
    private const int LowestCandidate = 20_000;
    private const int Attempts = 200;
    private static readonly HashSet<int> HandedOut = [];

    public static int Resolve(string name, int configured)
    {
        if (configured == 0) return FreePortOutsideEphemeralRange(name);

        if (!IsFree(configured))
        {
            throw new DistributedApplicationException(
                $"Port {configured} for the local {name} server is already in use. Stop whatever holds it (another ContentMax?), " +
                $"or set Infrastructure:Ports:{name} to another port, or to 0 for any free port.");
        }

        return configured;
    }

    internal static int FreePortOutsideEphemeralRange(string name)
    {
        var (ephemeralLow, ephemeralHigh) = EphemeralRange();
        // Below the range when there is room (Linux: 32768-60999), else above it.
        var (from, to) = ephemeralLow - LowestCandidate >= 1_000
            ? (LowestCandidate, ephemeralLow)
            : (ephemeralHigh + 1, 65_536);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var port = Random.Shared.Next(from, to);
            lock (HandedOut)
            {
                if (!HandedOut.Contains(port) && IsFree(port) && HandedOut.Add(port)) return port;
            }
        }

        throw new DistributedApplicationException(
            $"No free port for the local {name} server in {from}-{to - 1} after {Attempts} tries; set Infrastructure:Ports:{name}.");
    }

    internal static (int Low, int High) EphemeralRange()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        try
        {
            var parts = File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var low) && int.TryParse(parts[1], out var high)) return (low, high);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }

        return (32_768, 60_999); // Linux's default; IANA's dynamic range starts at 49152, so this lies below both.
    }

    internal static bool IsFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
