using ContentMax.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ContentMax.Monitoring.Client;

// The rules that span fields: the endpoint is required only for the http
// transport of an enabled client, the transport must be one that is
// registered, and the shared tags must pass the server's MetricRules.
internal sealed class ContentMaxMonitoringOptionsValidator(IServiceProviderIsKeyedService keyedServices) : IValidateOptions<ContentMaxMonitoringOptions>
{
    private const string Section = ContentMaxMonitoringOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, ContentMaxMonitoringOptions options)
    {
        if (!options.Enabled) return ValidateOptionsResult.Success;

        var failures = new List<string>();
        if (!keyedServices.IsKeyedService(typeof(IMetricsTransport), options.Transport))
        {
            failures.Add(options.Transport == ContentMaxMonitoringOptions.MassTransitTransport
                ? $"{Section}:Transport is 'masstransit', which needs the ContentMax.Monitoring.Client.MassTransit package: call builder.AddContentMaxMonitoring().UseMassTransit()."
                : $"{Section}:Transport is '{options.Transport}'; use 'http' or 'masstransit' (with the ContentMax.Monitoring.Client.MassTransit package).");
        }

        if (options.Transport == ContentMaxMonitoringOptions.HttpTransport)
        {
            if (options.Endpoint is null)
            {
                failures.Add($"{Section}:Endpoint is required: set it to the ingestion service's base address, such as http://localhost:5181 " +
                    $"(or set {Section}:Enabled=false to run without sending metrics).");
            }
            else if (!options.Endpoint.IsAbsoluteUri || options.Endpoint.Scheme is not ("http" or "https"))
            {
                failures.Add($"{Section}:Endpoint is '{options.Endpoint}'; it must be an absolute http(s) URL such as http://localhost:5181.");
            }
        }

        foreach (var (field, reason) in MetricRules.CheckTags(options.Tags))
        {
            failures.Add($"{Section}:{(field == "tags" ? "Tags" : "Tags:" + field["tags.".Length..])} {reason}.");
        }

        if (MetricRules.CheckText(options.ServiceName, MetricRules.MaxTagValueLength) is { } serviceName)
        {
            failures.Add($"{Section}:ServiceName {serviceName}.");
        }

        // Every point carries the shared tags and "service" besides its own.
        if (options.Tags.Count + 1 > MetricRules.MaxTags)
        {
            failures.Add($"{Section}:Tags may have at most {MetricRules.MaxTags - 1} entries (every point also carries 'service').");
        }

        foreach (var path in options.EffectiveExcludedPaths)
        {
            if (string.IsNullOrEmpty(path) || path[0] != '/')
            {
                failures.Add($"{Section}:ExcludedPaths has '{path}'; each entry must be a path starting with '/'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
