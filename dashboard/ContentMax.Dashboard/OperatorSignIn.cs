using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ContentMax.ServiceDefaults;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace ContentMax.Dashboard;

// Operators sign in with the read key; a session cookie keeps them in. The key
// is checked on the server and never stored in the cookie or sent back to the
// browser. The operator's id is an opaque hash prefix of the key, so analytics
// can tell sessions apart without learning anything secret.
public static class OperatorSignIn
{
    public const string SignInPath = "/signin";

    public static IHostApplicationBuilder AddOperatorSignIn(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Read), "ApiKeys:Read is not set: the dashboard needs the read key to sign operators in and to query the APIs.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyRing>();

        var secure = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = "contentmax.session";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = secure;
                options.ExpireTimeSpan = TimeSpan.FromHours(12);
                options.SlidingExpiration = true;
                options.LoginPath = SignInPath;
                options.LogoutPath = "/signout";
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

    public static IEndpointRouteBuilder MapOperatorSignIn(this IEndpointRouteBuilder app)
    {
        app.MapPost(SignInPath, async (HttpContext context, ApiKeyRing keys, [FromForm] string? key, [FromForm] string? returnUrl) =>
        {
            if (string.IsNullOrWhiteSpace(key) || !keys.RolesFor(key.Trim()).Contains(ApiRoles.Read))
            {
                return Results.LocalRedirect($"{SignInPath}?failed=1&returnUrl={Uri.EscapeDataString(SafeReturnUrl(returnUrl))}");
            }

            var operatorId = "op-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("contentmax-operator:" + key.Trim())))[..16].ToLowerInvariant();
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.NameIdentifier, operatorId), new Claim(ClaimTypes.Name, "Operator"), new Claim(ClaimTypes.Role, ApiRoles.Read)],
                CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(new ClaimsPrincipal(identity));
            return Results.LocalRedirect(SafeReturnUrl(returnUrl));
        }).AllowAnonymous();

        app.MapPost("/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync();
            return Results.LocalRedirect(SignInPath);
        });

        return app;
    }

    private static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
