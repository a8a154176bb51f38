namespace ContentMax.HealthProbe.Checks;

public interface IHealthProbeCheck
{
    string Name { get; }

    string Group { get; }

    Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken);
}

// Every check the probe runs: the infrastructure, each service's /health, and
// the configured external targets.
public sealed record ProbeCatalog(IReadOnlyList<IHealthProbeCheck> Checks);
