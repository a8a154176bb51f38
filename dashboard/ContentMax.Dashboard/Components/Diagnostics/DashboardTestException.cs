namespace ContentMax.Dashboard.Components.Diagnostics;

// Raised only by the diagnostics page, so the issue it creates is easy to find
// and to tell apart from real failures.
public sealed class DashboardTestException(string message) : Exception(message);
