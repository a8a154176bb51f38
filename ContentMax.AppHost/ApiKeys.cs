using Microsoft.Extensions.Hosting;

namespace ContentMax.AppHost;

// The API keys, as secret AppHost parameters (Parameters:ingest-api-key, ...).
// In Development a missing key falls back to a well-known dev key with a
// warning; anywhere else it stops startup. More keys, named and stored hashed,
// go under ApiKeys:Keys (or in the file ApiKeys:KeysFile names); see README.
public sealed record ApiKeys(
    IResourceBuilder<ParameterResource> Ingest,
    IResourceBuilder<ParameterResource> Read,
    IResourceBuilder<ParameterResource> Admin)
{
    public IResourceBuilder<ParameterResource> For(string role) => role switch
    {
        ApiRoles.Ingest => Ingest,
        ApiRoles.Read => Read,
        ApiRoles.Admin => Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "ingest, read or admin"),
    };
}

// The roles a key can have, as the services name them (ContentMax.ServiceDefaults.ApiRoles).
public static class ApiRoles
{
    public const string Ingest = "ingest";
    public const string Read = "read";
    public const string Admin = "admin";
}

public static class ApiKeyExtensions
{
    public static ApiKeys AddApiKeys(this IDistributedApplicationBuilder builder) => new(
        builder.AddApiKey("ingest-api-key", "dev-ingest-key"),
        builder.AddApiKey("read-api-key", "dev-read-key"),
        builder.AddApiKey("admin-api-key", "dev-admin-key"));

    // Hands a service what it needs to check keys, and no key itself: each role's
    // key as its SHA-256 under ApiKeys:Keys:<role> (a named key with that role),
    // so a service recognises every key (and answers a key of the wrong role
    // 403, not 401) without holding one. The AppHost's ApiKeys section (more
    // named, hashed keys, ApiKeys:KeysFile) and RateLimits section go along.
    public static IResourceBuilder<ProjectResource> WithApiKeys(this IResourceBuilder<ProjectResource> resource, ApiKeys keys)
    {
        string[] roles = [ApiRoles.Ingest, ApiRoles.Read, ApiRoles.Admin];
        resource.WithForwardedSettings("ApiKeys").WithForwardedSettings("RateLimits");
        return resource.WithEnvironment(async context =>
        {
            foreach (var role in roles)
            {
                var key = await keys.For(role).Resource.GetValueAsync(context.CancellationToken) ?? "";
                context.EnvironmentVariables[$"ApiKeys__Keys__{role}__Role"] = role;
                context.EnvironmentVariables[$"ApiKeys__Keys__{role}__Hash"] =
                    Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
            }
        });
    }

    // A key a service sends (the dashboard calls the read APIs with the read key).
    public static IResourceBuilder<ProjectResource> WithPlainApiKey(this IResourceBuilder<ProjectResource> resource, ApiKeys keys, string role) =>
        resource.WithEnvironment($"ApiKeys__{char.ToUpperInvariant(role[0])}{role[1..]}", keys.For(role));

    private static IResourceBuilder<ParameterResource> AddApiKey(this IDistributedApplicationBuilder builder, string name, string devDefault)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{name}"]))
        {
            return builder.AddParameter(name, secret: true);
        }

        if (!builder.Environment.IsDevelopment())
        {
            throw new DistributedApplicationException(
                $"The API key parameter '{name}' is not set. Outside Development every key must be given: " +
                $"set Parameters__{name} in the environment, or Parameters:{name} in user secrets or appsettings.");
        }

        Console.WriteLine($"warn: Parameter '{name}' is not set; using the development key '{devDefault}'. Never use it outside Development.");
        return builder.AddParameter(name, devDefault, secret: true);
    }
}
