import CLIKit
import DemoDepartments
import Foundation
import Hub
import Secrets

let demoCommand = Command(
    "demo",
    abstract: "Run the hub with four simulated department systems and show records flowing.",
    discussion: """
    Starts the hub (embedded PostgreSQL in --data-dir unless --database-url is given) and, beside
    it, simulated department systems over one synthetic district: the police household register
    as a paged REST API, social security as a SOAP service, the health records system pushing
    JSON to the hub, and civil affairs dropping GB18030 CSV files (subsistence allowance roster,
    marriage and death registrations). Their adapter declarations are written to
    <data-dir>/demo/adapters (the drop folders are under <data-dir>/demo/drop), so the hub pulls
    from them like from real systems. The district keeps changing (moves, marriages, deaths,
    corrections) at --changes-per-minute.

    A summary is redrawn every few seconds: per adapter records in, accepted and rejected;
    entities; open conflicts; the latest change events with the adapters they came from.
    The API is on --port as with serve (admin token in <data-dir>/admin.token). Ctrl-C stops the
    departments, the hub and its PostgreSQL.
    """,
    options: HubOptions.server + HubOptions.database + HubOptions.content.filter { $0.name != "adapters" } + [
        Option("residents", value: "N", help: "Residents of the simulated district.", default: "20000"),
        Option("changes-per-minute", value: "N", help: "Changes the departments make to the district per minute.", default: "60"),
        Option("every", value: "DURATION", help: "How often the hub pulls from each department (e.g. 5s, 1m).", default: "5s"),
    ] + HubOptions.logging.map { $0.name == "log-format" ? Option("log-format", value: "FORMAT",
        help: "Log lines on stderr: json for machines, text for people.", environment: "RECORDONCE_LOG_FORMAT", default: "text",
        choices: ["json", "text"]) : $0.name == "log-level" ? Option("log-level", value: "LEVEL", help: "Least severe level logged.",
        environment: "RECORDONCE_LOG_LEVEL", default: "warning", choices: ["debug", "info", "warning", "error"]) : $0 }
) { args in
    let logger = HubOptions.logger(args, label: "demo")
    var configuration = try HubOptions.configuration(args)
    guard let residents = try args.int("residents"), (100...2_000_000).contains(residents) else {
        throw UsageError("--residents must be between 100 and 2000000")
    }
    guard let perMinute = Double(args.value("changes-per-minute") ?? ""), perMinute >= 0 else {
        throw UsageError("--changes-per-minute must be a number of changes, 0 or more")
    }
    let every = args.value("every") ?? "5s"
    if configuration.port == 0 { configuration.port = try FreePort.find() }

    // The departments' systems, then their adapter declarations, then the hub that pulls them.
    let demoFolder = configuration.dataDirectory + "/demo"
    let adaptersFolder = demoFolder + "/adapters"
    try? FileManager.default.removeItem(atPath: adaptersFolder)
    try FileManager.default.createDirectory(atPath: adaptersFolder, withIntermediateDirectories: true)
    var departments = DemoDepartmentConfiguration(dropFolder: demoFolder + "/drop")
    departments.residents = residents
    departments.changesPerMinute = perMinute
    departments.hubURL = "http://127.0.0.1:\(configuration.port)"
    let healthToken = Secrets.newToken(prefix: "rod")
    departments.healthToken = healthToken
    print("Building a district of \(residents) residents and its departments' records ...")
    let systems = DemoDepartmentSystems(departments, logger: logger.child(label: "departments"))
    let endpoints = try systems.start()
    defer { systems.stop() }
    for file in DemoAdapterDeclarations.files(endpoints, every: every, healthTokenFile: "health-records.token") {
        try file.contents.write(toFile: adaptersFolder + "/" + file.name, atomically: true, encoding: .utf8)
    }
    try (healthToken + "\n").write(toFile: adaptersFolder + "/health-records.token", atomically: true, encoding: .utf8)
    configuration.adaptersDirectory = adaptersFolder

    let hub = Hub(configuration: configuration, logger: logger)
    do {
        try hub.start()
    } catch {
        CommandLineRunner.printError("the hub could not start: \(error)")
        return ExitCode.failure
    }
    defer { hub.stop() }
    print("""
        Hub on http://\(configuration.host):\(hub.port) (admin token: \(configuration.dataDirectory)/admin.token)
        Police register API \(endpoints.policePersonsURL), social security SOAP \(endpoints.socialSecurityURL),
        civil affairs drops in \(demoFolder)/drop, health pushing to /v1/ingest/health-records. Ctrl-C stops everything.

        """)
    let display = DemoSummaryDisplay(started: Date())
    let stop = DispatchSemaphore(value: 0)
    let ticker = Thread {
        while stop.wait(timeout: .now() + 3) == .timedOut {
            if let summary = try? HubSummary.read(hub.pool) { display.show(summary) }
        }
    }
    ticker.start()
    let signal = ShutdownSignal.wait()
    stop.signal()
    display.finish()
    print("\nstopping (\(signal)): departments, hub, database")
    return ExitCode.success
}

/// Draws the demo's summary: in place on a terminal, as a block every 30 s otherwise.
final class DemoSummaryDisplay: @unchecked Sendable {
    let started: Date
    let isTerminal = isatty(STDOUT_FILENO) == 1
    private var lastPrint = Date.distantPast
    private var drawnLines = 0

    /// Seconds between summaries when stdout is not a terminal (a log).
    static let plainInterval = Double(ProcessInfo.processInfo.environment["RECORDONCE_DEMO_SUMMARY_SECONDS"] ?? "") ?? 30

    init(started: Date) { self.started = started }

    func show(_ summary: HubSummary) {
        let now = Date()
        guard isTerminal || now.timeIntervalSince(lastPrint) >= Self.plainInterval else { return }
        lastPrint = now
        var lines = ["RecordOnce demo, \(Int(now.timeIntervalSince(started))) s: \(summary.events) change events, "
                     + "\(summary.openConflicts) open conflicts, entities: "
                     + summary.entities.map { "\($0.resource) \($0.count)" }.joined(separator: ", ")]
        lines.append(pad("adapter", 18) + pad("kind", 11) + pad("state", 10) + pad("in", 9, right: true)
                     + pad("accepted", 10, right: true) + pad("rejected", 10, right: true))
        for a in summary.adapters {
            lines.append(pad(a.id, 18) + pad(a.kind, 11) + pad(a.state, 10) + pad(String(a.recordsIn), 9, right: true)
                         + pad(String(a.accepted), 10, right: true) + pad(String(a.rejected), 10, right: true)
                         + (a.state == "running" ? "" : "  " + String((a.lastError ?? "").prefix(60))))
        }
        lines.append("latest changes (and updates among the last 1,000):")
        for e in summary.latest {
            lines.append("  #\(e.position) \(e.resource) …\(e.entityID.suffix(8)) \(e.operation) [\(e.changedFields.joined(separator: ", "))]"
                         + " from \(e.fromAdapters.joined(separator: ", "))"
                         + (e.knownFrom.isEmpty ? "" : "; known from \(e.knownFrom.joined(separator: ", "))"))
        }
        var text = ""
        if isTerminal, drawnLines > 0 { text += "\u{1B}[\(drawnLines)A" }
        for line in lines { text += (isTerminal ? "\u{1B}[2K" : "") + line + "\n" }
        if isTerminal, drawnLines > lines.count {
            for _ in lines.count..<drawnLines { text += "\u{1B}[2K\n" }
            text += "\u{1B}[\(drawnLines - lines.count)A"
        }
        drawnLines = max(lines.count, drawnLines)
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    func finish() {}

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let gap = String(repeating: " ", count: max(1, width - text.count))
        return right ? gap + text : text + gap
    }
}

/// A free TCP port on the loopback interface (for --port 0, where the departments must know the
/// hub's address before it starts).
enum FreePort {
    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UsageError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw UsageError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
