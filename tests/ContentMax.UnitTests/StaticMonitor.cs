using Microsoft.Extensions.Options;

namespace ContentMax.UnitTests;

// Options that never change, for code that takes an IOptionsMonitor.
internal sealed class StaticMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
