namespace ContentMax.IntegrationTests;

// What every test AppHost starts with: local servers in a data directory of
// its own, on free ports (so a test run can sit beside a developer's instance),
// and the given API keys.
public static class LocalAppHostArgs
{
    public static List<string> For(string dataDirectory, string ingestKey, string readKey, string adminKey) =>
    [
        "Infrastructure:Mode=local",
        $"Infrastructure:DataDirectory={dataDirectory}",
        "Infrastructure:Ports:Postgres=0",
        "Infrastructure:Ports:Redis=0",
        "Infrastructure:Ports:RabbitMq=0",
        "Infrastructure:Ports:RabbitMqDistribution=0",
        "Infrastructure:Ports:Epmd=0",
        $"Parameters:ingest-api-key={ingestKey}",
        $"Parameters:read-api-key={readKey}",
        $"Parameters:admin-api-key={adminKey}",
    ];
}
