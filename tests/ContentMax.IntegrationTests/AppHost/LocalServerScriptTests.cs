using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ContentMax.IntegrationTests.AppHost;

// The scripts that run the local servers, on their own: what they do when the
// AppHost that owns them is gone, and where PostgreSQL keeps its data when the
// repository sits below a private folder.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class LocalServerScriptTests : IDisposable
{
    private static readonly string Scripts = Path.Combine(RepositoryRoot(), "ContentMax.AppHost", "LocalServers");

    private static string RepositoryRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "ContentMax.sln"))) dir = Path.GetDirectoryName(dir.TrimEnd('/'))!;
        return dir;
    }

    private readonly string _root = Directory.CreateTempSubdirectory("contentmax-scripts-").FullName;

    // On a fresh machine these may run before any AppHost has installed the servers.
    public LocalServerScriptTests() => LocalInstall.Ensure("redis-server");

    [Fact]
    public async Task ARedisWhoseAppHostIsKilled_StopsWithinSeconds()
    {
        using var owner = Process.Start("sleep", "600")!;
        var port = LocalPorts.Free();
        var password = WritePassword("redis");
        using var redis = Start("run-redis.sh", [Path.Combine(_root, "redis"), port.ToString(), password], owner.Id);
        await WaitForPortAsync(port, TimeSpan.FromSeconds(20), redis);

        owner.Kill();

        Assert.True(await ExitsWithinAsync(redis, TimeSpan.FromSeconds(10)), "redis still runs 10 s after its AppHost was killed");
        Assert.True(LocalPorts.IsFree(port), $"port {port} is still held");
    }

    [Fact]
    public async Task PostgresBelowAPrivateFolder_KeepsItsDataWhereItsUserCanReachIt_AndStarts()
    {
        Assert.Equal("root", Environment.UserName);
        var privateFolder = Directory.CreateDirectory(Path.Combine(_root, "home"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var dataDirectory = Path.Combine(privateFolder, "repo", ".data", "postgres");
        var port = LocalPorts.Free();
        var password = WritePassword("postgres");
        using var owner = Process.Start("sleep", "600")!;
        using var postgres = Start("run-postgres.sh", [dataDirectory, port.ToString(), password], owner.Id);
        var reachable = "/var/lib/contentmax/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..16];
        try
        {
            await WaitForPortAsync(port, TimeSpan.FromSeconds(60), postgres);

            Assert.Equal(Path.Combine(reachable, "postgres"), new FileInfo(dataDirectory).LinkTarget);
            Assert.True(File.Exists(Path.Combine(dataDirectory, "PG_VERSION")));

            // Its AppHost gone, it shuts down fast (SIGINT), as Redis does.
            owner.Kill();
            Assert.True(await ExitsWithinAsync(postgres, TimeSpan.FromSeconds(30)), "postgres still runs 30 s after its AppHost was killed");
            await Eventually.UntilAsync(() => Task.FromResult(LocalPorts.IsFree(port)), free => free, TimeSpan.FromSeconds(30), _ => $"port {port} still held");
        }
        finally
        {
            if (!postgres.HasExited) postgres.Kill(entireProcessTree: true);
            if (Directory.Exists(reachable)) Directory.Delete(reachable, recursive: true);
        }
    }

    // A clone deleted and cloned again at the same path: its relocated cluster
    // remains, made with a password the new clone does not have. The new data
    // directory gets a cluster of its own, and the old one is left as it was.
    [Fact]
    public async Task PostgresBelowAPrivateFolder_AtAPathAnEarlierCloneUsed_GetsAClusterOfItsOwn()
    {
        var privateFolder = Directory.CreateDirectory(Path.Combine(_root, "home2"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var dataDirectory = Path.Combine(privateFolder, "repo", ".data", "postgres");
        var earlier = "/var/lib/contentmax/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..16];
        Directory.CreateDirectory(Path.Combine(earlier, "postgres"));
        File.WriteAllText(Path.Combine(earlier, "postgres", "PG_VERSION"), "15\n");
        var port = LocalPorts.Free();
        using var owner = Process.Start("sleep", "600")!;
        using var postgres = Start("run-postgres.sh", [dataDirectory, port.ToString(), WritePassword("postgres2")], owner.Id);
        string? target = null;
        try
        {
            await WaitForPortAsync(port, TimeSpan.FromSeconds(60), postgres);

            target = new FileInfo(dataDirectory).LinkTarget;
            Assert.NotNull(target);
            Assert.StartsWith(earlier + ".", target);
            Assert.True(File.Exists(Path.Combine(target, "postmaster.pid")), "the new cluster is not the one running");
            Assert.Equal(["PG_VERSION"], Directory.GetFiles(Path.Combine(earlier, "postgres")).Select(Path.GetFileName));
        }
        finally
        {
            owner.Kill();
            if (!await ExitsWithinAsync(postgres, TimeSpan.FromSeconds(30))) postgres.Kill(entireProcessTree: true);
            Directory.Delete(earlier, recursive: true);
            if (target is not null) Directory.Delete(Path.GetDirectoryName(target)!, recursive: true);
        }
    }

    private string WritePassword(string name)
    {
        var path = Path.Combine(_root, name + ".password");
        File.WriteAllText(path, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
        return path;
    }

    private static Process Start(string script, string[] args, int ownerPid)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Scripts, script), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["CONTENTMAX_APPHOST_PID"] = ownerPid.ToString();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForPortAsync(int port, TimeSpan timeout, Process server)
    {
        await Eventually.UntilAsync(() => Task.FromResult(!LocalPorts.IsFree(port) || server.HasExited), up => up, timeout, _ => $"nothing listens on {port}");
        Assert.False(server.HasExited, $"the server exited with {(server.HasExited ? server.ExitCode : 0)}");
    }

    private static async Task<bool> ExitsWithinAsync(Process process, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }



    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
