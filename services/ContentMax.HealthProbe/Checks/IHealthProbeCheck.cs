namespace ContentMax.HealthProbe.Checks;

public interface IHealthProbeCheck
{
    // Unique across the catalog: "database", "service:ingestion", "external:shopify".
    string Name { get; }

    // The entry of /api/health's "checks" object this check counts towards.
    string Group { get; }

    // How long one run may take; null means the probe-wide HealthProbe:Timeout.
    TimeSpan? Timeout => null;

    Task<ProbeOutcome> RunAsync(CancellationToken cancellationToken);
}

// Every check the probe runs: the infrastructure, each service's /health, and
// the configured external targets.
public sealed record ProbeCatalog(IReadOnlyList<IHealthProbeCheck> Checks);
