using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ContentMax.Monitoring.Client;

/// <summary>
/// Returned by <c>AddContentMaxMonitoring()</c>, to add more to the client:
/// another transport (<c>.UseMassTransit()</c> from ContentMax.Monitoring.Client.MassTransit,
/// or your own through <see cref="ContentMaxMonitoringBuilderExtensions.AddTransport{TTransport}"/>).
/// </summary>
public interface IContentMaxMonitoringBuilder
{
    /// <summary>The service's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The <c>ContentMaxMonitoring</c> configuration section.</summary>
    IConfigurationSection Configuration { get; }
}

internal sealed record ContentMaxMonitoringBuilder(IServiceCollection Services, IConfigurationSection Configuration) : IContentMaxMonitoringBuilder;

/// <summary>Adds transports to the client.</summary>
public static class ContentMaxMonitoringBuilderExtensions
{
    /// <summary>
    /// Registers a transport under <paramref name="name"/>; the client uses it
    /// when <c>ContentMaxMonitoring:Transport</c> names it. With
    /// <paramref name="makeDefault"/>, it is used unless the configuration names another.
    /// </summary>
    /// <typeparam name="TTransport">The transport, created once from the service provider.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The name the Transport setting uses.</param>
    /// <param name="makeDefault">Use it when the configuration does not set Transport.</param>
    /// <returns>The builder.</returns>
    public static IContentMaxMonitoringBuilder AddTransport<TTransport>(this IContentMaxMonitoringBuilder builder, string name, bool makeDefault = false)
        where TTransport : class, IMetricsTransport
    {
        builder.Services.AddKeyedSingleton<IMetricsTransport, TTransport>(name);
        if (makeDefault && string.IsNullOrEmpty(builder.Configuration[nameof(ContentMaxMonitoringOptions.Transport)]))
        {
            builder.Services.Configure<ContentMaxMonitoringOptions>(options => options.Transport = name);
        }

        return builder;
    }
}
