namespace ContentMax.ServiceDefaults;

// The opaque cursors the paginated APIs hand out: a page's position written
// as "part:part", in URL-safe base64 without padding, so it can go into a
// query string as it is. What the parts mean is the API's own business.
public static class PageCursor
{
    public static string Encode(params string[] parts) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(string.Join(':', parts)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // The parts, or null for anything this did not write.
    public static string[]? Decode(string text)
    {
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split(':');
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
