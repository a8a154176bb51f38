using ContentMax.Dashboard;
using ContentMax.Dashboard.Backend;
using ContentMax.Dashboard.Components;
using ContentMax.Dashboard.Explore;
using ContentMax.ServiceDefaults.Analytics;
using ContentMax.ServiceDefaults.ErrorTracking;
using Radzen;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddErrorTracking();
builder.AddProductAnalytics();
builder.AddOperatorSignIn();
builder.AddBackendClients();
builder.AddBrowserMonitoring();
builder.Services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddRadzenComponents();
builder.Services.AddSingleton<Runbooks>();

var app = builder.Build();

app.UseSecurityHeaders();
app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseRateLimiter();
app.UseSignInFormErrors();
app.MapStaticAssets();
app.MapOperatorSignIn();
app.MapExploreExport();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();
