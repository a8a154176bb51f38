using ContentMax.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace ContentMax.UnitTests;

public class ApiKeyRingTests
{
    private static ApiKeyRing Ring() => new(Options.Create(new ApiKeyOptions
    {
        Ingest = "ingest-1, ingest-2",
        Read = "read-1",
        Admin = "admin-1",
    }));

    [Fact]
    public void RolesFor_EachKeyGetsItsRole()
    {
        var ring = Ring();
        Assert.Equal([ApiRoles.Ingest], ring.RolesFor("ingest-1"));
        Assert.Equal([ApiRoles.Ingest], ring.RolesFor("ingest-2"));
        Assert.Equal([ApiRoles.Read], ring.RolesFor("read-1"));
    }

    [Fact]
    public void RolesFor_AdminCanAlsoRead() =>
        Assert.Equal([ApiRoles.Admin, ApiRoles.Read], Ring().RolesFor("admin-1"));

    [Theory]
    [InlineData("")]
    [InlineData("ingest-")]
    [InlineData("INGEST-1")]
    [InlineData("ingest-1 ")]
    public void RolesFor_UnknownKeyHasNoRoles(string key) => Assert.Empty(Ring().RolesFor(key));
}
