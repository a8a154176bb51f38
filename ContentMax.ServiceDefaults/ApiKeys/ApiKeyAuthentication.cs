using System.Diagnostics;
using System.Security.Claims;
using ContentMax.ServiceDefaults.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults.ApiKeys;

// API keys with roles. A request carries its key in X-Api-Key or
// "Authorization: Bearer"; browser beacons, which cannot set headers, may put an
// ingest key in ?key=. No key or an unknown key is 401, the wrong role is 403.
// Keys are held only as SHA-256 hashes and compared in constant time. The
// principal carries the key's configured name, never the key.
public static class ApiRoles
{
    public const string Ingest = "ingest";
    public const string Read = "read";
    public const string Admin = "admin";
}

public static class ApiKeyClaims
{
    // The key's configured name (also the principal's Name).
    public const string KeyName = "contentmax:api_key";

    // The role the key was configured with; rate limits default per role.
    public const string KeyRole = "contentmax:api_key_role";
}

// The handler is built for every request that authenticates, so it is kept
// lean: it implements IAuthenticationHandler itself rather than deriving from
// AuthenticationHandler<T>, whose constructor creates a logger (under the
// logger factory's lock) and whose options are looked up per request. Measured
// under single-metric load, that was a few µs of a ~35 µs request.
public sealed class ApiKeyAuthenticationHandler(ApiKeyRing keyRing, InvalidKeyThrottle throttle, IProblemDetailsService problemDetails) : IAuthenticationHandler
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string QueryName = "key";

    private HttpContext _context = null!;
    private AuthenticateResult? _result;
    private bool _throttled;

    public Task InitializeAsync(AuthenticationScheme scheme, HttpContext context)
    {
        _context = context;
        return Task.CompletedTask;
    }

    // Cached: the challenge asks again why authentication failed.
    public Task<AuthenticateResult> AuthenticateAsync() => Task.FromResult(_result ??= Authenticate());

    private AuthenticateResult Authenticate()
    {
        var (presented, fromQuery) = ReadKey(_context.Request);
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        var identity = keyRing.Find(presented);
        if (identity is null)
        {
            if (throttle.Register(_context.Connection.RemoteIpAddress?.ToString() ?? "unknown"))
            {
                _throttled = true;
                return AuthenticateResult.Fail($"More than {throttle.PerMinute} invalid API keys from this address in a minute; try again later.");
            }

            // The message goes into the 401 problem: it never repeats the key.
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        var principal = identity.Principal;
        if (fromQuery)
        {
            // A key in a URL ends up in access logs and browser history, so only
            // the write-only ingest role is accepted there.
            if (!identity.Roles.Contains(ApiRoles.Ingest))
            {
                return AuthenticateResult.Fail("Only ingest keys may be sent in the query string.");
            }

            principal = new ClaimsPrincipal(new ClaimsIdentity(
                identity.Claims.Where(c => c.Type != ClaimTypes.Role || c.Value == ApiRoles.Ingest), SchemeName));
        }

        Activity.Current?.SetTag("contentmax.api_key", identity.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    public async Task ChallengeAsync(AuthenticationProperties? properties)
    {
        var failure = (await AuthenticateAsync()).Failure?.Message;
        if (_throttled)
        {
            _context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            _context.Response.Headers.RetryAfter = "60";
            await WriteProblem(StatusCodes.Status429TooManyRequests, "Too many invalid API keys", failure!);
            return;
        }

        _context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        _context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"contentmax\", {HeaderName}";
        await WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized",
            failure ?? $"An API key is required: send it in the {HeaderName} header or as a Bearer token.");
    }

    public async Task ForbidAsync(AuthenticationProperties? properties)
    {
        _context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "The API key does not have the role this endpoint needs.");
    }

    private async Task WriteProblem(int status, string title, string detail)
    {
        var written = await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = _context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
        if (!written)
        {
            await _context.Response.WriteAsJsonAsync(new ProblemDetails { Status = status, Title = title, Detail = detail });
        }
    }

    public static (string? Key, bool FromQuery) ReadKey(HttpRequest request)
    {
        var header = request.Headers[HeaderName].ToString();
        if (!string.IsNullOrWhiteSpace(header))
        {
            return (header.Trim(), false);
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization["Bearer ".Length..].Trim();
            return (token.Length > 0 ? token : null, false);
        }

        var query = request.Query[QueryName].ToString();
        return string.IsNullOrWhiteSpace(query) ? (null, false) : (query.Trim(), true);
    }
}

public static class ApiKeyAuthenticationExtensions
{
    // Adds API-key authentication, one authorization policy per role, and the
    // per-key rate limits. The roles a service serves must have at least one
    // key, or startup fails.
    public static IHostApplicationBuilder AddApiKeyAuthentication(this IHostApplicationBuilder builder, params string[] requiredRoles)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiKeyOptions>>(sp =>
            new ApiKeyOptionsValidator(requiredRoles, sp.GetRequiredService<ILogger<ApiKeyOptionsValidator>>()));

        builder.Services.AddSingleton<ApiKeyRing>();
        builder.Services.AddSingleton<InvalidKeyThrottle>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddTransient<ApiKeyAuthenticationHandler>();
        builder.Services.AddAuthentication(options =>
        {
            options.AddScheme<ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, displayName: null);
            options.DefaultScheme = ApiKeyAuthenticationHandler.SchemeName;
        });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiRoles.Ingest, p => p.RequireRole(ApiRoles.Ingest))
            .AddPolicy(ApiRoles.Read, p => p.RequireRole(ApiRoles.Read))
            .AddPolicy(ApiRoles.Admin, p => p.RequireRole(ApiRoles.Admin));
        builder.AddApiKeyRateLimits();
        return builder;
    }

    // ApiKeys:KeysFile names a JSON settings file (same shape as appsettings:
    // {"ApiKeys":{"Keys":{...}},"RateLimits":{"Keys":{...}}}) that is reloaded
    // when it changes. It is added for every service, so the dashboard's
    // sign-in sees the same keys.
    public static IHostApplicationBuilder AddApiKeyFile(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration[$"{ApiKeyOptions.SectionName}:{nameof(ApiKeyOptions.KeysFile)}"] is { Length: > 0 } path)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(path, builder.Environment.ContentRootPath), optional: true, reloadOnChange: true);
        }

        return builder;
    }
}
