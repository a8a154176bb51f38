using System.Diagnostics;

namespace ContentMax.UnitTests;

// The browser snippet's own logic (route normalisation, batching under the beacon
// quota, point and tag rules, the fetch fallback) is tested in JavaScript with
// Node's test runner (clients/browser/test). Running it from here puts it in
// `dotnet test`; Node is there, since building ingestion needs it.
public class BrowserSnippetScriptTests
{
    [Fact]
    public async Task NodeTestsOfTheSnippet_Pass()
    {
        var directory = FindSnippetDirectory();
        using var node = Process.Start(new ProcessStartInfo("node", ["--test", "test/"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await node.WaitForExitAsync(timeout.Token);

        var report = await output + await errors;
        Assert.True(node.ExitCode == 0, "node --test failed in clients/browser:\n" + report);
        Assert.Contains("# fail 0", report);
        Assert.DoesNotContain("# pass 0", report);
    }

    private static string FindSnippetDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "clients", "browser");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"clients/browser was not found above {AppContext.BaseDirectory}.");
    }
}
