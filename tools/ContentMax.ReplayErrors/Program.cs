using ContentMax.ReplayErrors;

// Moves messages from an error queue (default metrics-storage_error) back to the
// queue they failed in (metrics-storage), once the cause is fixed. See
// docs/runbooks/error-queue-not-empty.md.
//
//   dotnet run --project tools/ContentMax.ReplayErrors -- [--dry-run] [--reason TEXT] [--limit N]
//       [--connection amqp://user:pass@host:port | --data-dir .data --port 5192]
//       [--queue metrics-storage]

if (!ReplayArguments.TryParse(args, Environment.GetEnvironmentVariable, out var arguments, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(ReplayArguments.Usage);
    return 2;
}

try
{
    var result = await ErrorQueueReplayer.RunAsync(arguments, CancellationToken.None);
    Console.WriteLine(result.Describe(arguments));
    return 0;
}
catch (ReplayException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
