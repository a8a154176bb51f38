using System.Security.Claims;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ErrorTracking;
using Microsoft.AspNetCore.Components.Authorization;

namespace ContentMax.Dashboard;

// The dashboard's own product events, sent by the server for the signed-in
// operator. Tab and period changes and component errors happen in Blazor
// handlers on the server, so they are captured there, through the same
// ProductAnalytics client every service uses, with the same opaque operator id
// that posthog-js identifies the browser with. Page views, page leaves and
// autocapture come from posthog-js in the browser.
public sealed class DashboardAnalytics(ProductAnalytics analytics, AuthenticationStateProvider authentication, SensitiveDataRedactor redactor)
{
    public const string OverviewTab = "overview_tab";
    public const string OverviewPeriod = "overview_period";
    public const string VitalTrend = "vital_trend";
    public const string ExploreMetric = "explore_metric";
    public const string AlertAction = "alert_action";

    public async Task FeatureUsedAsync(string feature, IReadOnlyDictionary<string, object?> properties)
    {
        if (await OperatorIdAsync() is { } operatorId)
        {
            analytics.FeatureUsed(operatorId, feature, properties);
        }
    }

    public async Task ErrorAsync(Exception exception, string area)
    {
        if (await OperatorIdAsync() is { } operatorId)
        {
            // Secrets in a message (a connection string, a token) are filtered as for Sentry.
            analytics.TrackError(operatorId, redactor.ScrubText(exception.Message), new Dictionary<string, object?>
            {
                ["source"] = "dashboard",
                ["area"] = area,
                ["error_type"] = exception.GetType().Name,
            });
        }
    }

    private async Task<string?> OperatorIdAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return state.User.Identity?.IsAuthenticated == true ? state.User.FindFirstValue(ClaimTypes.NameIdentifier) : null;
    }
}
