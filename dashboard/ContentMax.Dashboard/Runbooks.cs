using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Markdig;

namespace ContentMax.Dashboard;

// The pages of docs/runbooks, built into the dashboard and rendered once, so
// the link in an alert notification opens the right page even where the
// repository is out of reach.
public sealed partial class Runbooks
{
    private readonly FrozenDictionary<string, (string Title, string Html)> _pages;

    public Runbooks()
    {
        // Raw HTML in the markdown is not passed through.
        var pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().DisableHtml().Build();
        var assembly = typeof(Runbooks).Assembly;
        _pages = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("runbooks/", StringComparison.Ordinal) && n.EndsWith(".md", StringComparison.Ordinal))
            .ToFrozenDictionary(
                n => n["runbooks/".Length..^".md".Length],
                n =>
                {
                    using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                    var markdown = reader.ReadToEnd();
                    var title = markdown.Split('\n').FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim() ?? n;
                    // Links between runbooks ("error-rate.md") point at their pages.
                    // (absolute: the app's <base href="/"> would send relative ones to the root).
                    var html = RunbookLink().Replace(Markdown.ToHtml(markdown, pipeline), "href=\"/runbooks/$1$2\"");
                    return (title, html);
                });
    }

    public IEnumerable<(string Name, string Title)> All => _pages.OrderBy(p => p.Key == "README" ? "" : p.Value.Title).Select(p => (p.Key, p.Value.Title));

    public bool TryGet(string name, out string title, out string html)
    {
        name = name.EndsWith(".md", StringComparison.Ordinal) ? name[..^3] : name;
        var found = _pages.TryGetValue(name, out var page);
        (title, html) = found ? page : ("", "");
        return found;
    }

    [GeneratedRegex("href=\"([a-z0-9-]+)\\.md(#[^\"]*)?\"")]
    private static partial Regex RunbookLink();
}
