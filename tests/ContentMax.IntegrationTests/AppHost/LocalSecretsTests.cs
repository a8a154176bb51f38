using ContentMax.AppHost.LocalServers;

namespace ContentMax.IntegrationTests.AppHost;

// The local servers' passwords: readable by their owner only, from the moment they exist.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class LocalSecretsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("contentmax-secrets-").FullName;

    [Fact]
    public void SecretsFolderIs0700_AndEachFile0600()
    {
        var secrets = new LocalSecrets(Path.Combine(_root, "secrets"));

        var path = secrets.PathFor("postgres");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_root, "secrets")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(36, secrets.Read("postgres").Length);
        Assert.Equal(secrets.Read("postgres"), new LocalSecrets(Path.Combine(_root, "secrets")).Read("postgres"));
    }

    [Fact]
    public void AWiderFolderFromBefore_IsNarrowed()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "secrets"), (UnixFileMode)0b111_101_101).FullName;

        new LocalSecrets(folder).PathFor("redis");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
