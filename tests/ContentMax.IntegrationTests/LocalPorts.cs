using ContentMax.AppHost.LocalServers;

namespace ContentMax.IntegrationTests;

// Loopback ports for servers the tests start, and whether one is still held.
public static class LocalPorts
{
    public static int Free()
    {
        // Outside the kernel's ephemeral range: the servers bind it seconds later.
        return LocalServerPorts.FreePortOutsideEphemeralRange("test");
    }

    public static bool IsFree(int port) => LocalServerPorts.IsFree(port);
}
