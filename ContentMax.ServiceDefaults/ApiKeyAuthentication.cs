using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentMax.ServiceDefaults;

// API keys with roles. A request carries its key in X-Api-Key or
// "Authorization: Bearer"; browser beacons, which cannot set headers, may put an
// ingest key in ?key=. No key or an unknown key is 401, the wrong role is 403.
// Keys are held only as SHA-256 hashes and compared in constant time.
public static class ApiRoles
{
    public const string Ingest = "ingest";
    public const string Read = "read";
    public const string Admin = "admin";
}

public sealed class ApiKeyOptions
{
    public const string SectionName = "ApiKeys";

    // Each role takes one key or several separated by commas, so a key can be
    // rotated by adding the new one before removing the old.
    public string? Ingest { get; set; }
    public string? Read { get; set; }
    public string? Admin { get; set; }

    internal IEnumerable<(string Role, string Key)> Keys()
    {
        foreach (var (role, value) in new[] { (ApiRoles.Ingest, Ingest), (ApiRoles.Read, Read), (ApiRoles.Admin, Admin) })
        {
            foreach (var key in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return (role, key);
            }
        }
    }
}

public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRing keyRing,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string QueryName = "key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (presented, fromQuery) = ReadKey(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var roles = keyRing.RolesFor(presented);
        if (roles.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        if (fromQuery)
        {
            // A key in a URL ends up in access logs and browser history, so only
            // the write-only ingest role is accepted there.
            roles = roles.Where(r => r == ApiRoles.Ingest).ToList();
            if (roles.Count == 0)
            {
                return Task.FromResult(AuthenticateResult.Fail("Only ingest keys may be sent in the query string."));
            }
        }

        var claims = roles.Select(r => new Claim(ClaimTypes.Role, r)).Append(new Claim(ClaimTypes.Name, "api-key"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Bearer realm=\"contentmax\", {HeaderName}";
        var failure = Context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
        await WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized",
            failure ?? $"An API key is required: send it in the {HeaderName} header or as a Bearer token.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "The API key does not have the role this endpoint needs.");
    }

    private async Task WriteProblem(int status, string title, string detail)
    {
        var written = await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
        if (!written)
        {
            await Response.WriteAsJsonAsync(new ProblemDetails { Status = status, Title = title, Detail = detail });
        }
    }

    internal static (string? Key, bool FromQuery) ReadKey(HttpRequest request)
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

// The configured keys, kept as hashes.
public sealed class ApiKeyRing
{
    private readonly (byte[] Hash, string Role)[] _entries;

    public ApiKeyRing(IOptions<ApiKeyOptions> options)
    {
        _entries = options.Value.Keys().Select(k => (Hash(k.Key), k.Role)).ToArray();
    }

    public IReadOnlyCollection<string> Roles => _entries.Select(e => e.Role).Distinct().ToArray();

    public List<string> RolesFor(string presented)
    {
        var hash = Hash(presented);
        var roles = new List<string>(2);
        // Every entry is compared, matched or not, so timing says nothing about which key is close.
        foreach (var (entryHash, role) in _entries)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, entryHash) && !roles.Contains(role))
            {
                roles.Add(role);
            }
        }

        // An admin key can also read.
        if (roles.Contains(ApiRoles.Admin) && !roles.Contains(ApiRoles.Read))
        {
            roles.Add(ApiRoles.Read);
        }

        return roles;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

public static class ApiKeyAuthenticationExtensions
{
    // Adds API-key authentication and one authorization policy per role. The
    // roles a service serves must have at least one key, or startup fails.
    public static IHostApplicationBuilder AddApiKeyAuthentication(this IHostApplicationBuilder builder, params string[] requiredRoles)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.SectionName)
            .Validate(o =>
            {
                var present = o.Keys().Select(k => k.Role).ToHashSet();
                return requiredRoles.All(present.Contains);
            }, $"Missing API keys: this service needs keys for the roles [{string.Join(", ", requiredRoles)}]. " +
               "Set ApiKeys__Ingest / ApiKeys__Read / ApiKeys__Admin (the AppHost passes its ingest-api-key, read-api-key and admin-api-key parameters).")
            .ValidateOnStart();

        builder.Services.AddSingleton<ApiKeyRing>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiRoles.Ingest, p => p.RequireRole(ApiRoles.Ingest))
            .AddPolicy(ApiRoles.Read, p => p.RequireRole(ApiRoles.Read))
            .AddPolicy(ApiRoles.Admin, p => p.RequireRole(ApiRoles.Admin));
        return builder;
    }
}
