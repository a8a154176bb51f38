using Microsoft.Extensions.Configuration;
using RabbitMQ.Client;

namespace ContentMax.HealthProbe.Checks;

// Holds one AMQP connection and reports whether it is open, reconnecting when
// it is not: a broker that stopped shows within one probe interval.
public sealed class MessagingCheck(IConfiguration configuration) : IHealthProbeCheck, IAsyncDisposable
{
    private IConnection? _connection;

    public string Name => "messaging";

    public string Group => CheckGroups.Messaging;

    public async Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true })
        {
            // An open socket to a hung broker still says IsOpen; a channel round trip does not lie.
            await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            return ProbeOutcome.Success;
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        var uri = configuration.GetConnectionString("messaging") ?? throw new InvalidOperationException("ConnectionStrings:messaging is not set.");
        var factory = new ConnectionFactory
        {
            Uri = new Uri(uri),
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            ClientProvidedName = "contentmax-health-probe",
        };
        _connection = await factory.CreateConnectionAsync(cancellationToken);
        return ProbeOutcome.Success;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }
}
