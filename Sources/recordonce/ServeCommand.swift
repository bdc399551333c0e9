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
    'Authorization: Bearer <token>'. Every option can also come from a JSON5 file given with
    --config (precedence: option, then environment variable, then file, then default). Probes: GET /healthz, /readyz, /version, /metrics.
    Pull adapters run in whichever hub process claims them first (leases in PostgreSQL);
    --pulls off keeps this process to the API and pushes.
    A catalog changed since the last start is checked first (as 'recordonce catalog check'
    does): breaking changes stop the start unless --accept-catalog-changes.

    With --tls-cert and --tls-key the hub serves HTTPS (GnuTLS through libmicrohttpd); SIGHUP
    (systemctl reload recordonce) reads both files again without dropping open connections, and
    a missing, unreadable or mismatched file is reported with its name (at start: the hub does not
    start; on reload: the previous certificate stays in use).
    """,
    options: [ConfigurationFile.option] + HubOptions.server + HubOptions.database + HubOptions.content + HubOptions.adapters
        + HubOptions.feed + HubOptions.catalogChanges + HubOptions.logging
) { commandLine in
    let args = try ConfigurationFile.apply(to: commandLine)
    let logger = HubOptions.logger(args)
    OpenFileLimit.raiseToHardLimit(logger: logger)
    AllocatorSettings.applyForServer(logger: logger)
    let hub = Hub(configuration: try HubOptions.configuration(args), logger: logger)
    do {
        try hub.start()
    } catch {
        logger.error("the hub could not start: \(error)")
        CommandLineRunner.printError(String(describing: error))
        return ExitCode.failure
    }
    // Under systemd (Type=notify) the unit counts as started only now.
    ServiceNotifier.notify("READY=1\nSTATUS=serving on port \(hub.port)\nMAINPID=\(getpid())")
    let signal = ShutdownSignal.wait(reload: {
        ServiceNotifier.notify("RELOADING=1")
        do {
            try hub.reloadCertificates()
        } catch {
            logger.error("TLS certificates not reloaded; the previous ones stay in use", ["error": String(describing: error)])
        }
        ServiceNotifier.notify("READY=1")
    })
    ServiceNotifier.notify("STOPPING=1")
    logger.info("stopping", ["signal": signal])
    hub.stop()
    logger.info("stopped")
    return ExitCode.success
}
