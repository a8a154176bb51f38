using System.ComponentModel.DataAnnotations;

namespace ContentMax.Dashboard;

public sealed class DashboardOptions
{
    public const string SectionName = "Dashboard";

    // How often an open page refreshes health and metrics (pushed over the
    // Blazor circuit; the browser does not poll).
    [Range(typeof(TimeSpan), "00:00:01", "00:00:30")]
    public TimeSpan HealthRefresh { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan MetricsRefresh { get; set; } = TimeSpan.FromSeconds(30);
}
