using ContentMax.Schema;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
using var host = builder.Build();

var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ContentMax.Schema");
var connectionString = builder.Configuration.GetConnectionString("metricsdb")
    ?? throw new InvalidOperationException("ConnectionStrings:metricsdb is not set. Run through ContentMax.AppHost, or set ConnectionStrings__metricsdb.");

using var stopping = new CancellationTokenSource(TimeSpan.FromMinutes(5));
var applied = await new MigrationRunner(connectionString, logger).RunAsync(stopping.Token);
logger.LogInformation("metricsdb schema is current ({Applied} migration(s) applied now)", applied);
