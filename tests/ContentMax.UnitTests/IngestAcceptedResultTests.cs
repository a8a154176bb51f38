using System.Text;
using System.Text.Json;
using ContentMax.Ingestion;
using Microsoft.AspNetCore.Http;

namespace ContentMax.UnitTests;

public class IngestAcceptedResultTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public async Task Execute_Writes202AndTheCount_WithItsLength(int accepted)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await IngestAcceptedResult.For(accepted).ExecuteAsync(context);

        var body = Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
        Assert.Equal(StatusCodes.Status202Accepted, context.Response.StatusCode);
        Assert.Equal($$"""{"accepted":{{accepted}}}""", body);
        Assert.Equal(body.Length, context.Response.ContentLength);
        Assert.Equal(accepted, JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32());
    }

    [Fact]
    public void For_ReusesOneAnswerPerCount_UpToTheLargestBatch()
    {
        Assert.Same(IngestAcceptedResult.For(1), IngestAcceptedResult.For(1));
        Assert.Same(IngestAcceptedResult.For(1000), IngestAcceptedResult.For(1000));
        Assert.Equal(1001, IngestAcceptedResult.For(1001).Accepted);
    }
}
