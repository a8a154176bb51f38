using System.Security.Cryptography;
using System.Text;

namespace ContentMax.ServiceDefaults.ApiKeys;

// Keys are kept and configured only as SHA-256 digests of their UTF-8 bytes,
// written as 64 hex digits: what `scripts/hash-api-key.sh` and
// `printf %s KEY | sha256sum` print.
public static class ApiKeyHash
{
    public static byte[] Of(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string HexOf(string key) => Convert.ToHexStringLower(Of(key));

    public static bool TryParse(string? hex, out byte[] hash)
    {
        hash = [];
        var text = hex?.Trim();
        if (text is not { Length: SHA256.HashSizeInBytes * 2 } || !text.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        hash = Convert.FromHexString(text);
        return true;
    }
}
