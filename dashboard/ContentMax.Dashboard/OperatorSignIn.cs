using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ContentMax.Dashboard.Admin;
using ContentMax.ServiceDefaults.ApiKeys;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace ContentMax.Dashboard;

// Operators sign in with a key that can read; a session cookie keeps them in.
// The key is checked on the server and never stored in the cookie or sent back
// to the browser. The cookie records which named key signed in and a short
// fingerprint of it, and every request checks both against the key ring in
// force: revoking or rotating that key ends its sessions at once. A session
// also ends after Dashboard:SessionIdleTimeout without a request and, however
// active, Dashboard:SessionLifetime after signing in. Sign-in attempts are
// limited per client address. The operator's id is an opaque hash prefix of
// the key, so analytics can tell sessions apart without learning anything secret.
public static class OperatorSignIn
{
    public const string SignInPath = "/signin";
    public const string SignInPolicy = "signin";
    public const string KeyNameClaim = "contentmax:key";
    public const string KeyFingerprintClaim = "contentmax:key-fingerprint";
    public const string SignedInAtClaim = "contentmax:signed-in-at";

    public static IHostApplicationBuilder AddOperatorSignIn(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Read), "ApiKeys:Read is not set: the dashboard needs the read key to sign operators in and to query the APIs.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyRing>();
        builder.Services.AddSingleton<OperatorKeys>();

        var lifetime = SessionLifetime(builder.Configuration);
        var secure = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = "contentmax.session";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = secure;
                options.ExpireTimeSpan = builder.Configuration.GetValue("Dashboard:SessionIdleTimeout", TimeSpan.FromHours(2));
                options.SlidingExpiration = true;
                options.LoginPath = SignInPath;
                options.LogoutPath = "/signout";
                options.Events.OnValidatePrincipal = context => ValidateSessionAsync(context, lifetime);
            });
        var signInWindow = builder.Configuration.GetValue("Dashboard:SignInWindow", TimeSpan.FromMinutes(1));
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(SignInPolicy, context => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new System.Threading.RateLimiting.FixedWindowRateLimiterOptions
                {
                    PermitLimit = builder.Configuration.GetValue("Dashboard:SignInAttemptsPerMinute", 10),
                    Window = signInWindow,
                    QueueLimit = 0,
                }));
            options.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(signInWindow.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await context.HttpContext.Response.WriteAsync("Too many sign-in attempts from this address. Try again shortly.", cancellationToken);
            };
        });
        // The sign-in and sign-out forms' antiforgery cookie follows the same rule.
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = secure;
        });
        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    // A sign-in form without a valid antiforgery token (an old page, a forged
    // post) is a bad request, answered 400 with what to do, not a server error.
    public static IApplicationBuilder UseSignInFormErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted
            && (ex is Microsoft.AspNetCore.Antiforgery.AntiforgeryValidationException or BadHttpRequestException))
        {
            var antiforgery = ex is Microsoft.AspNetCore.Antiforgery.AntiforgeryValidationException
                || ex.InnerException is Microsoft.AspNetCore.Antiforgery.AntiforgeryValidationException;
            context.Response.Clear();
            context.Response.StatusCode = ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(antiforgery
                ? "The sign-in form has expired or did not come from this dashboard. Reload the page and sign in again."
                : "The request is not valid.");
        }
    });

    private static TimeSpan SessionLifetime(IConfiguration configuration) =>
        configuration.GetValue("Dashboard:SessionLifetime", TimeSpan.FromHours(12));

    public static IEndpointRouteBuilder MapOperatorSignIn(this IEndpointRouteBuilder app)
    {
        var lifetime = SessionLifetime(app.ServiceProvider.GetRequiredService<IConfiguration>());
        app.MapPost(SignInPath, async (HttpContext context, ApiKeyRing keys, OperatorKeys held, [FromForm] string? key, [FromForm] string? returnUrl) =>
        {
            var found = string.IsNullOrWhiteSpace(key) ? null : keys.Find(key.Trim());
            if (found is null || !found.Roles.Contains(ApiRoles.Read))
            {
                return Results.LocalRedirect($"{SignInPath}?failed=1&returnUrl={Uri.EscapeDataString(SafeReturnUrl(returnUrl))}");
            }

            var operatorId = "op-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("contentmax-operator:" + key!.Trim())))[..16].ToLowerInvariant();
            // A key with the admin role (the admin key, or a named key) gives an
            // admin session: the dashboard shows it the controls that change
            // alerts, and acts with this very key (OperatorKeys).
            List<Claim> claims =
            [
                new Claim(ClaimTypes.NameIdentifier, operatorId), new Claim(ClaimTypes.Name, found.Name), new Claim(ClaimTypes.Role, ApiRoles.Read),
                new Claim(KeyNameClaim, found.Name), new Claim(KeyFingerprintClaim, ApiKeyRing.Fingerprint(key.Trim())),
                new Claim(SignedInAtClaim, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(OperatorKeys.SessionClaim, held.Hold(key.Trim(), lifetime)),
            ];
            if (found.Roles.Contains(ApiRoles.Admin)) claims.Add(new Claim(ClaimTypes.Role, ApiRoles.Admin));
            var identity = new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(new ClaimsPrincipal(identity));
            return Results.LocalRedirect(SafeReturnUrl(returnUrl));
        }).AllowAnonymous().RequireRateLimiting(SignInPolicy);

        app.MapPost("/signout", async (HttpContext context, OperatorKeys held) =>
        {
            held.Release(context.User);
            await context.SignOutAsync();
            return Results.LocalRedirect(SignInPath);
        });

        return app;
    }

    // Every request: the session's key must still be in force under its name,
    // and the session younger than its absolute lifetime.
    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext context, TimeSpan lifetime)
    {
        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeyRing>();
        var principal = context.Principal;
        var name = principal?.FindFirst(KeyNameClaim)?.Value;
        var fingerprint = principal?.FindFirst(KeyFingerprintClaim)?.Value;
        var signedInAt = long.TryParse(principal?.FindFirst(SignedInAtClaim)?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
        if (name is null || fingerprint is null || signedInAt is null
            || !keys.Holds(name, fingerprint)
            || DateTimeOffset.UtcNow - signedInAt.Value > lifetime)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }

    private static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
