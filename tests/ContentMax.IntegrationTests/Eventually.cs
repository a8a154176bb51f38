namespace ContentMax.IntegrationTests;

// The pipeline is asynchronous: tests poll until what they expect shows up,
// and fail with a message saying what was last seen when it does not.
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, Func<T, string> describe, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var last = await probe();
            if (done(last)) return last;
            if (DateTime.UtcNow > deadline) throw new TimeoutException(describe(last));
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
    }

    public static Task<T> UntilAsync<T>(Func<T> probe, Func<T, bool> done, TimeSpan timeout, Func<T, string> describe, TimeSpan? every = null) =>
        UntilAsync(() => Task.FromResult(probe()), done, timeout, describe, every);
}
