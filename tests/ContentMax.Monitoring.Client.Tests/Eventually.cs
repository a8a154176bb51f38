namespace ContentMax.Monitoring.Client.Tests;

// The client counts a batch once it has read the answer, a moment after the
// server has recorded it: tests wait for counters rather than read them at once.
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds} s: {what}");
            await Task.Delay(20);
        }
    }
}
