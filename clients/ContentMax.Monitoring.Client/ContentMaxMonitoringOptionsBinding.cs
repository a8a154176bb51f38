using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client;

// Binds the ContentMaxMonitoring section. The configuration binder converts a
// TimeSpan only from "00:00:01"; people write "1s" or "500ms". So the duration
// settings are read first, turned into TimeSpan's own text, and laid over the
// section before the ordinary binding runs. An unreadable duration fails at
// startup (the options are validated on start) with the setting named.
internal static class ContentMaxMonitoringOptionsBinding
{
    private static readonly string[] Durations =
    [
        nameof(ContentMaxMonitoringOptions.FlushInterval),
        nameof(ContentMaxMonitoringOptions.RequestTimeout),
        nameof(ContentMaxMonitoringOptions.RetryMaxDelay),
        nameof(ContentMaxMonitoringOptions.ShutdownTimeout),
    ];

    public static void Bind(IConfiguration section, ContentMaxMonitoringOptions options)
    {
        var normalized = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var failures = new List<string>();
        foreach (var name in Durations)
        {
            var text = section[name];
            if (text is null) continue;
            if (DurationText.TryParse(text, out var value))
            {
                normalized[name] = value.ToString("c");
            }
            else
            {
                failures.Add($"{ContentMaxMonitoringOptions.SectionName}:{name} is '{text}'; use a duration such as 500ms, 1s, 2m or 00:00:01.");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ContentMaxMonitoringOptions), failures);
        }

        var overlay = new ConfigurationBuilder()
            .AddConfiguration(section, shouldDisposeConfiguration: false)
            .AddInMemoryCollection(normalized)
            .Build();
        overlay.Bind(options);
    }
}
