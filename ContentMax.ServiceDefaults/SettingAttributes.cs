using System.ComponentModel.DataAnnotations;

namespace ContentMax.ServiceDefaults;

// DataAnnotations for settings that [Range] and [Url] do not express.

// A setting that must be an absolute http or https URL ([Url] also takes ftp).
// An empty value passes; [Required] says whether one is needed.
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter)]
public sealed class AbsoluteHttpUrlAttribute : ValidationAttribute
{
    public override bool IsValid(object? value) =>
        value switch
        {
            null => true,
            string text when string.IsNullOrWhiteSpace(text) => true,
            string text => IsHttpUrl(text.Trim()),
            Uri uri => uri.IsAbsoluteUri && uri.Scheme is "http" or "https",
            _ => false,
        };

    public static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}

// A duration setting that must be more than zero.
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter)]
public sealed class PositiveDurationAttribute : ValidationAttribute
{
    public override bool IsValid(object? value) => value is not TimeSpan span || span > TimeSpan.Zero;
}
