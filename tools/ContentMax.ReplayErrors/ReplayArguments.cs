using System.Globalization;
using ContentMax.Contracts;

namespace ContentMax.ReplayErrors;

// Command-line settings. The broker comes from --connection, else
// ConnectionStrings__messaging, else the local RabbitMQ the AppHost runs: user
// contentmax, the password in DATA_DIR/secrets/rabbitmq.password, 127.0.0.1:PORT.
public sealed record ReplayArguments(Uri Broker, string Queue, string ErrorQueue, int? Limit, string? Reason, bool DryRun)
{
    public const string Usage = """
        usage: replay-errors [--dry-run] [--reason TEXT] [--limit N] [--queue NAME]
                             [--connection amqp://user:password@host:port | --data-dir DIR --port PORT]
          --queue       queue to replay into (default metrics-storage; its error queue is NAME_error)
          --reason      replay only messages whose fault reason contains TEXT
          --limit       replay at most N messages
          --dry-run     list what would be replayed, move nothing
          --connection  broker URI (default: ConnectionStrings__messaging, else the local broker)
          --data-dir    the AppHost's data directory (default .data), for the local broker's password
          --port        the local broker's AMQP port (default 5192)
        """;

    public static bool TryParse(string[] args, Func<string, string?> environment, out ReplayArguments arguments, out string? error)
    {
        arguments = null!;
        error = null;
        string? connection = null, dataDirectory = null, reason = null;
        var queue = MessagingTopology.MetricsStorageQueue;
        var port = 5192;
        int? limit = null;
        var dryRun = false;

        for (var i = 0; i < args.Length; i++)
        {
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "replay-errors":
                    break; // The command's own name, when run as `... -- replay-errors`.
                case "--dry-run":
                    dryRun = true;
                    break;
                case "--connection":
                    connection = Next();
                    break;
                case "--data-dir":
                    dataDirectory = Next();
                    break;
                case "--queue":
                    queue = Next() ?? "";
                    break;
                case "--reason":
                    reason = Next();
                    break;
                case "--port" when int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536:
                    port = p;
                    break;
                case "--limit" when int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    limit = n;
                    break;
                default:
                    error = $"Unknown or incomplete argument '{args[i]}'.";
                    return false;
            }
        }

        if (string.IsNullOrWhiteSpace(queue))
        {
            error = "--queue needs a queue name.";
            return false;
        }

        connection ??= environment("ConnectionStrings__messaging");
        if (connection is null)
        {
            var passwordFile = Path.Combine(Path.GetFullPath(dataDirectory ?? ".data"), "secrets", "rabbitmq.password");
            if (!File.Exists(passwordFile))
            {
                error = $"No broker given: pass --connection, set ConnectionStrings__messaging, or run from the repository root " +
                    $"(or pass --data-dir) so {passwordFile} can be read.";
                return false;
            }

            var password = Uri.EscapeDataString(File.ReadAllText(passwordFile).Trim());
            connection = string.Create(CultureInfo.InvariantCulture, $"amqp://contentmax:{password}@127.0.0.1:{port}");
        }

        if (!Uri.TryCreate(connection, UriKind.Absolute, out var broker) || broker.Scheme is not ("amqp" or "amqps"))
        {
            error = "The broker must be an amqp:// or amqps:// URI.";
            return false;
        }

        arguments = new ReplayArguments(broker, queue, queue + "_error", limit, reason, dryRun);
        return true;
    }
}
