namespace ContentMax.Dashboard;

// Google's Core Web Vitals thresholds (good / poor), assessed at p75.
// INP replaced FID in March 2024; FID is kept only to show legacy data.
public sealed record WebVital(string Name, string Title, double Good, double Poor, string Unit, bool Legacy = false)
{
    public static readonly WebVital[] All =
    [
        new("LCP", "Largest Contentful Paint", 2500, 4000, "ms"),
        new("INP", "Interaction to Next Paint", 200, 500, "ms"),
        new("CLS", "Cumulative Layout Shift", 0.1, 0.25, ""),
        new("FCP", "First Contentful Paint", 1800, 3000, "ms"),
        new("TTFB", "Time to First Byte", 800, 1800, "ms"),
        new("FID", "First Input Delay (legacy)", 100, 300, "ms", Legacy: true),
    ];

    public VitalRating Rate(double p75) =>
        p75 <= Good ? VitalRating.Good : p75 <= Poor ? VitalRating.NeedsImprovement : VitalRating.Poor;

    public string Format(double value) => Unit == "ms" ? $"{value:0} ms" : $"{value:0.000}";
}

public enum VitalRating
{
    Good,
    NeedsImprovement,
    Poor,
}
