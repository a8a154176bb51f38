using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sentry;
using Sentry.Protocol;

namespace ContentMax.ServiceDefaults.ErrorTracking;

// Longer than our usual 300 lines: every place an event can carry a secret is
// here, so a reviewer checks one file to know nothing leaves unredacted.
//
// Replaces secrets with "[Filtered]" wherever Sentry could carry them: request
// headers, cookies, query string and URL, request data, extra, contexts, tags,
// breadcrumbs, messages, exception values and span descriptions. Names are
// matched against the deny-list; free text is scanned for name=value pairs,
// credentials in URLs and bearer tokens. Cookies and Authorization go whatever
// SendDefaultPii says.
public sealed partial class SensitiveDataRedactor
{
    public const string Filtered = "[Filtered]";

    // Always sensitive, whatever the configured list says.
    private static readonly string[] AlwaysRedacted = ["authorization", "api_key", "apikey", "cookie", "password", "secret", "token"];

    // Matched only as whole names: "key" is the ingest key's query parameter, but
    // "monkey" or "cache_key" are not secrets.
    private static readonly HashSet<string> ExactNames = new(StringComparer.Ordinal) { "key", "auth", "pwd", "sig", "signature" };

    private const int MaxDepth = 10;

    private readonly string[] _fragments;

    public SensitiveDataRedactor(IEnumerable<string> redactedFields)
    {
        _fragments = [.. AlwaysRedacted.Concat(redactedFields).Select(Normalize).Where(f => f.Length > 0).Distinct()];
    }

    public bool IsSensitive(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        var normalized = Normalize(name);
        if (ExactNames.Contains(normalized))
        {
            return true;
        }

        foreach (var fragment in _fragments)
        {
            if (normalized.Contains(fragment, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // Free text: "?key=abc&x=1", "Password=abc;", "amqp://user:pass@host",
    // "Bearer abc" keep their shape but lose the secret.
    public string ScrubText(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        var result = NameValuePattern().Replace(text, match =>
            match.Groups["value"].Length > 0 && match.Groups["value"].Value != Filtered && IsSensitive(match.Groups["name"].Value)
                ? match.Groups["name"].Value + match.Groups["separator"].Value + Filtered
                : match.Value);
        result = UrlCredentialsPattern().Replace(result, m => m.Groups["prefix"].Value + Filtered + "@");
        result = AuthorizationValuePattern().Replace(result, m => m.Groups["scheme"].Value + " " + Filtered);
        return result;
    }

    public void Redact(SentryEvent sentryEvent)
    {
        RedactCommon(sentryEvent);

        if (sentryEvent.Message is { } message)
        {
            message.Message = ScrubNullable(message.Message);
            message.Formatted = ScrubNullable(message.Formatted);
        }

        if (sentryEvent.SentryExceptions is { } exceptions)
        {
            foreach (var exception in exceptions)
            {
                exception.Value = ScrubNullable(exception.Value);
            }
        }

        foreach (var (key, value) in sentryEvent.Tags.ToList())
        {
            var redacted = IsSensitive(key) ? Filtered : ScrubText(value);
            if (redacted != value)
            {
                sentryEvent.SetTag(key, redacted);
            }
        }

        foreach (var (key, value) in sentryEvent.Extra.ToList())
        {
            sentryEvent.SetExtra(key, IsSensitive(key) ? Filtered : RedactValue(value));
        }
    }

    public void Redact(SentryTransaction transaction)
    {
        RedactCommon(transaction);

        foreach (var (key, value) in transaction.Tags.ToList())
        {
            var redacted = IsSensitive(key) ? Filtered : ScrubText(value);
            if (redacted != value)
            {
                transaction.SetTag(key, redacted);
            }
        }

        foreach (var (key, value) in transaction.Data.ToList())
        {
            transaction.SetData(key, IsSensitive(key) ? Filtered : RedactValue(value));
        }

        foreach (var span in transaction.Spans)
        {
            span.Description = ScrubNullable(span.Description);
            foreach (var (key, value) in span.Tags.ToList())
            {
                var redacted = IsSensitive(key) ? Filtered : ScrubText(value);
                if (redacted != value)
                {
                    span.SetTag(key, redacted);
                }
            }

            foreach (var (key, value) in span.Data.ToList())
            {
                span.SetData(key, IsSensitive(key) ? Filtered : RedactValue(value));
            }
        }
    }

    // A breadcrumb is immutable, so a changed one is rebuilt through its JSON
    // form, which keeps its timestamp. Unchanged breadcrumbs are returned as they are.
    public Breadcrumb Redact(Breadcrumb breadcrumb, IReadOnlyDictionary<string, string>? addData = null)
    {
        var message = breadcrumb.Message is null ? null : ScrubText(breadcrumb.Message);
        Dictionary<string, string>? data = null;
        if (breadcrumb.Data is { } original)
        {
            foreach (var (key, value) in original)
            {
                var redacted = IsSensitive(key) ? Filtered : ScrubText(value);
                if (redacted != value)
                {
                    data ??= new Dictionary<string, string>(original);
                    data[key] = redacted;
                }
            }
        }

        if (addData is { Count: > 0 })
        {
            data ??= breadcrumb.Data is null ? [] : new Dictionary<string, string>(breadcrumb.Data);
            foreach (var (key, value) in addData)
            {
                data[key] = value;
            }
        }

        if (data is null && message == breadcrumb.Message)
        {
            return breadcrumb;
        }

        var json = ToJsonObject(breadcrumb.WriteTo);
        json["message"] = message;
        if (data is not null)
        {
            var dataObject = new JsonObject();
            foreach (var (key, value) in data)
            {
                dataObject[key] = value;
            }

            json["data"] = dataObject;
        }

        using var document = JsonDocument.Parse(json.ToJsonString());
        return Breadcrumb.FromJson(document.RootElement);
    }

    public void Redact(SentryRequest request)
    {
        request.Url = ScrubNullable(request.Url);
        request.QueryString = ScrubNullable(request.QueryString);
        if (!string.IsNullOrEmpty(request.Cookies))
        {
            request.Cookies = Filtered;
        }

        RedactStringDictionary(request.Headers);
        RedactStringDictionary(request.Env);
        RedactStringDictionary(request.Other);
        request.Data = RedactBody(request.Data);
    }

    // Any value Sentry may serialize: strings are scanned, dictionaries and JSON
    // are walked by name, other objects are turned into JSON first so that a
    // property called "password" on an anonymous object is found too.
    public object? RedactValue(object? value) => RedactValue(value, 0);

    private object? RedactValue(object? value, int depth)
    {
        switch (value)
        {
            case null:
                return null;
            case string text:
                return ScrubText(text);
            case Uri uri:
                return ScrubText(uri.ToString());
            case bool or char or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal
                or Enum or DateTime or DateTimeOffset or TimeSpan or Guid or DateOnly or TimeOnly:
                return value;
            case JsonNode node:
                var clone = node.DeepClone();
                RedactInPlace(clone, depth);
                return clone;
            case JsonElement element:
                return RedactValue(JsonNode.Parse(element.GetRawText()), depth);
        }

        if (depth >= MaxDepth)
        {
            return Filtered;
        }

        if (value is IDictionary dictionary)
        {
            var copy = new Dictionary<string, object?>(dictionary.Count);
            foreach (DictionaryEntry entry in dictionary)
            {
                var key = Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                copy[key] = IsSensitive(key) ? Filtered : RedactValue(entry.Value, depth + 1);
            }

            return copy;
        }

        if (value is IEnumerable<KeyValuePair<string, string>> or IEnumerable<KeyValuePair<string, object?>>)
        {
            var pairs = value is IEnumerable<KeyValuePair<string, string>> strings
                ? strings.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value))
                : (IEnumerable<KeyValuePair<string, object?>>)value;
            var copy = new Dictionary<string, object?>();
            foreach (var (key, item) in pairs)
            {
                copy[key] = IsSensitive(key) ? Filtered : RedactValue(item, depth + 1);
            }

            return copy;
        }

        if (value is IEnumerable sequence)
        {
            return sequence.Cast<object?>().Select(item => RedactValue(item, depth + 1)).ToList();
        }

        try
        {
            var json = JsonSerializer.SerializeToNode(value);
            if (json is null)
            {
                return null;
            }

            RedactInPlace(json, depth);
            return json;
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            return ScrubText(value.ToString() ?? "");
        }
    }

    private void RedactCommon(IEventLike item)
    {
        if (item.Request is { } request)
        {
            Redact(request);
        }

        if (item.Breadcrumbs is List<Breadcrumb> breadcrumbs)
        {
            for (var i = 0; i < breadcrumbs.Count; i++)
            {
                breadcrumbs[i] = Redact(breadcrumbs[i]);
            }
        }

        var contexts = item.Contexts;
        foreach (var key in contexts.Keys.ToList())
        {
            var value = contexts[key];
            if (IsSensitive(key))
            {
                contexts[key] = Filtered;
            }
            else if (value is Response response)
            {
                if (!string.IsNullOrEmpty(response.Cookies))
                {
                    response.Cookies = Filtered;
                }

                RedactStringDictionary(response.Headers);
                response.Data = RedactBody(response.Data);
            }
            else if (value is not null && value.GetType().Namespace?.StartsWith("Sentry", StringComparison.Ordinal) != true)
            {
                // Sentry's own typed contexts (trace, runtime, os, app, ...) hold no
                // user data; anything else was put there by application code.
                contexts[key] = RedactValue(value) ?? Filtered;
            }
        }
    }

    // A request body arrives as a dictionary (forms) or as a string (JSON or text).
    private object? RedactBody(object? body)
    {
        if (body is string text && text.TrimStart() is ['{', ..] or ['[', ..])
        {
            try
            {
                var node = JsonNode.Parse(text);
                if (node is not null)
                {
                    RedactInPlace(node, 0);
                    return node.ToJsonString();
                }
            }
            catch (JsonException)
            {
                // Not JSON after all; scan it as text.
            }
        }

        return RedactValue(body);
    }

    private void RedactStringDictionary(IDictionary<string, string>? dictionary)
    {
        if (dictionary is null)
        {
            return;
        }

        foreach (var (key, value) in dictionary.ToList())
        {
            var redacted = IsSensitive(key) ? Filtered : ScrubText(value);
            if (redacted != value)
            {
                dictionary[key] = redacted;
            }
        }
    }

    private void RedactInPlace(JsonNode node, int depth)
    {
        if (depth >= MaxDepth)
        {
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (IsSensitive(key))
                    {
                        obj[key] = Filtered;
                    }
                    else if (child is JsonValue childValue && childValue.TryGetValue<string>(out var text))
                    {
                        var scrubbed = ScrubText(text);
                        if (scrubbed != text)
                        {
                            obj[key] = scrubbed;
                        }
                    }
                    else if (child is not null)
                    {
                        RedactInPlace(child, depth + 1);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue itemValue && itemValue.TryGetValue<string>(out var text))
                    {
                        var scrubbed = ScrubText(text);
                        if (scrubbed != text)
                        {
                            array[i] = scrubbed;
                        }
                    }
                    else if (array[i] is { } item)
                    {
                        RedactInPlace(item, depth + 1);
                    }
                }

                break;
        }
    }

    private string? ScrubNullable(string? text) => text is null ? null : ScrubText(text);

    private static JsonObject ToJsonObject(Action<Utf8JsonWriter, Sentry.Extensibility.IDiagnosticLogger?> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, null);
        }

        return JsonNode.Parse(buffer.ToArray())!.AsObject();
    }

    private static string Normalize(string name) =>
        name.Trim().ToLowerInvariant().Replace('-', '_').Replace(' ', '_').Replace('.', '_');

    // name=value after a start, separator or quote: query strings, form bodies,
    // connection strings ("Password=...;"), log text ("token=...").
    [GeneratedRegex(@"(?<=^|[\s?&;,(\[{'""])(?<name>[A-Za-z_$][\w.\-$]*)(?<separator>\s*=\s*)(?<value>\[Filtered\]|[^&;\s,'"")\]}#]*)", RegexOptions.CultureInvariant)]
    private static partial Regex NameValuePattern();

    // scheme://user:password@host
    [GeneratedRegex(@"(?<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]+:)(?<password>[^@/\s]+)@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlCredentialsPattern();

    // "Bearer abc.def" or "Basic dXNlcjpwYXNz" in free text.
    [GeneratedRegex(@"\b(?<scheme>[Bb]earer|[Bb]asic)\s+(?!\[Filtered\])[A-Za-z0-9\-._~+/]+=*", RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationValuePattern();
}
