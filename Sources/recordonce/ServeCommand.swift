import CLIKit
import Foundation
import Hub

let serveCommand = Command(
    "serve",
    abstract: "Run the hub: HTTP API, adapters and feed.",
    discussion: """
    Without --database-url the hub creates (first run) or reuses a private PostgreSQL cluster in
    --data-dir, listening only on a Unix socket there, and stops it when the hub stops (Ctrl-C,
    SIGTERM). On first start it writes the admin token to <data-dir>/admin.token (mode 0600);
    RECORDONCE_ADMIN_TOKEN sets it instead. Requests authenticate with
    'Authorization: Bearer <token>'. Probes: GET /healthz, /readyz, /version, /metrics.
    Pull adapters run in whichever hub process claims them first (leases in PostgreSQL);
    --pulls off keeps this process to the API and pushes.
    A catalog changed since the last start is checked first (as 'recordonce catalog check'
    does): breaking changes stop the start unless --accept-catalog-changes.
    """,
    options: HubOptions.server + HubOptions.database + HubOptions.content + HubOptions.adapters + HubOptions.feed + HubOptions.catalogChanges + HubOptions.logging
) { args in
    let logger = HubOptions.logger(args)
    OpenFileLimit.raiseToHardLimit(logger: logger)
    let hub = Hub(configuration: try HubOptions.configuration(args), logger: logger)
    do {
        try hub.start()
    } catch {
        logger.error("the hub could not start: \(error)")
        CommandLineRunner.printError(String(describing: error))
        return ExitCode.failure
    }
    let signal = ShutdownSignal.wait()
    logger.info("stopping", ["signal": signal])
    hub.stop()
    logger.info("stopped")
    return ExitCode.success
}
