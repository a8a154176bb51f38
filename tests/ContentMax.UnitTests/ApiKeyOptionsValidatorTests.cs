using ContentMax.ServiceDefaults.ApiKeys;

namespace ContentMax.UnitTests;

public class ApiKeyOptionsValidatorTests
{
    private static readonly string GoodHash = ApiKeyHash.HexOf("some-key");

    private static List<string> Problems(ApiKeyOptions options, params string[] required) => ApiKeyOptionsValidator.Problems(options, required);

    [Fact]
    public void NamedKeysAlone_SatisfyTheRequiredRoles() =>
        Assert.Empty(Problems(new ApiKeyOptions { Keys = new() { ["billing"] = new NamedApiKey { Role = "ingest", Hash = GoodHash } } }, ApiRoles.Ingest));

    [Fact]
    public void AMissingRole_IsNamed()
    {
        var problem = Assert.Single(Problems(new ApiKeyOptions { Read = "r" }, ApiRoles.Ingest));
        Assert.Contains("[ingest]", problem);
    }

    [Theory]
    [InlineData("has space", "ingest", "good", "key name")]
    [InlineData("-leading", "ingest", "good", "key name")]
    [InlineData("billing", "owner", "good", ":Role must be one of")]
    [InlineData("billing", null, "good", ":Role must be one of")]
    [InlineData("billing", "ingest", "not-a-hash", ":Hash must be the key's SHA-256")]
    [InlineData("billing", "ingest", null, ":Hash must be the key's SHA-256")]
    [InlineData("ingest", "ingest", "good", "taken by a plain key")]
    public void ABadNamedKey_IsRejectedWithItsSetting(string name, string? role, string? hash, string expected)
    {
        var options = new ApiKeyOptions
        {
            Ingest = "plain-ingest",
            Keys = new() { [name] = new NamedApiKey { Role = role, Hash = hash == "good" ? GoodHash : hash } },
        };

        var problem = Assert.Single(Problems(options, ApiRoles.Ingest));
        Assert.Contains(expected, problem);
        Assert.Contains($"ApiKeys:Keys:{name}", problem);
    }

    [Fact]
    public void AHashThatIsReallyAKey_IsNotRepeatedInTheProblem()
    {
        var options = new ApiKeyOptions { Keys = new() { ["billing"] = new NamedApiKey { Role = "ingest", Hash = "sk_live_pasted_secret" } } };
        Assert.DoesNotContain("sk_live_pasted_secret", string.Join(" ", Problems(options, ApiRoles.Ingest)));
    }
}
