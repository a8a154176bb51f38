using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ContentMax.ServiceDefaults;

// The ActivitySource and Meter that ContentMax's own code reports through.
// ServiceDefaults subscribes both to OpenTelemetry in every service.
public static class ContentMaxTelemetry
{
    public const string ActivitySourceName = "ContentMax";
    public const string MeterName = "ContentMax";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
