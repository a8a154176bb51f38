using Microsoft.Extensions.Hosting;

namespace ContentMax.AppHost;

// The API keys, as secret AppHost parameters (Parameters:ingest-api-key, ...).
// In Development a missing key falls back to a well-known dev key with a
// warning; anywhere else it stops startup. More keys, named and stored hashed,
// go under ApiKeys:Keys (or in the file ApiKeys:KeysFile names); see README.
public sealed record ApiKeys(
    IResourceBuilder<ParameterResource> Ingest,
    IResourceBuilder<ParameterResource> Read,
    IResourceBuilder<ParameterResource> Admin);

public static class ApiKeyExtensions
{
    public static ApiKeys AddApiKeys(this IDistributedApplicationBuilder builder) => new(
        builder.AddApiKey("ingest-api-key", "dev-ingest-key"),
        builder.AddApiKey("read-api-key", "dev-read-key"),
        builder.AddApiKey("admin-api-key", "dev-admin-key"));

    // Hands the keys to a service as ApiKeys__Ingest / __Read / __Admin, with the
    // AppHost's ApiKeys section (named, hashed keys under ApiKeys:Keys, and
    // ApiKeys:KeysFile) and RateLimits section.
    public static IResourceBuilder<ProjectResource> WithApiKeys(this IResourceBuilder<ProjectResource> resource, ApiKeys keys) =>
        resource
            .WithForwardedSettings("ApiKeys")
            .WithForwardedSettings("RateLimits")
            .WithEnvironment("ApiKeys__Ingest", keys.Ingest)
            .WithEnvironment("ApiKeys__Read", keys.Read)
            .WithEnvironment("ApiKeys__Admin", keys.Admin);

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
