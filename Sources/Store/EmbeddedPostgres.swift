import Foundation
import Telemetry

/// Settings of the private PostgreSQL cluster the hub starts when it is given no database URL.
public struct EmbeddedPostgresOptions: Sendable {
    /// The hub's data folder. The cluster lives in `<dataDirectory>/postgres` and listens only on
    /// a Unix socket in that folder.
    public var dataDirectory: String
    /// Folder with initdb, pg_ctl and postgres; found under /usr/lib/postgresql when nil.
    public var binDirectory: String?
    /// The unprivileged system user that runs the cluster when the hub runs as root.
    public var systemUser: String
    /// The database the hub uses inside the cluster.
    public var database: String
    /// fsync and synchronous commit on (production, demo) or off (throwaway test clusters).
    public var durable: Bool
    /// PostgreSQL's max_connections: a hub needs its pool plus a few; a test cluster shared by
    /// suites that run in parallel (each with hubs of their own) needs far more.
    public var maxConnections: Int

    public init(dataDirectory: String, binDirectory: String? = nil,
                systemUser: String = ProcessInfo.processInfo.environment["RECORDONCE_PG_USER"] ?? "recordonce",
                database: String = "recordonce", durable: Bool = true, maxConnections: Int = 200) {
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
        self.systemUser = systemUser
        self.database = database
        self.durable = durable
        self.maxConnections = maxConnections
    }
}

/// Why the embedded cluster could not start. Each says what to do about it.
public struct EmbeddedPostgresError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A private PostgreSQL cluster: created on first start, reused later, stopped with the hub.
///
/// When the hub runs as root the cluster runs as `systemUser` (PostgreSQL refuses root): its
/// folder is owned by that user and initdb and pg_ctl run through runuser. A postmaster left
/// running by a killed hub is stopped and started again; a stale postmaster.pid is removed.
public final class EmbeddedPostgres: @unchecked Sendable {
    public let options: EmbeddedPostgresOptions
    public let clusterDirectory: String
    private let logger: Logger
    private let binDirectory: String
    private var running = false
    /// Stopped on purpose by `stopServerForTesting`: not a crash, so not restarted by the supervisor.
    private var stoppedOnPurpose = false
    private let lock = NSLock()
    /// The flock on `<data-dir>/embedded.lock` held while this process owns the cluster.
    private var ownerLock: Int32 = -1

    /// Whether this process started the cluster and will stop it (false when it attached to a
    /// cluster another live process owns, such as `recordonce import` next to a running hub).
    public var isOwner: Bool { ownerLock >= 0 }

    /// The role the hub connects as (trust authentication over the private socket).
    public static let role = "recordonce"

    public init(options: EmbeddedPostgresOptions, logger: Logger = .silent) throws {
        self.options = options
        self.logger = logger
        let absolute = URL(fileURLWithPath: options.dataDirectory).standardizedFileURL.path
        self.clusterDirectory = absolute + "/postgres"
        guard let bin = options.binDirectory.flatMap(Self.serverBinaries(in:)) ?? (options.binDirectory == nil ? Self.findServerBinaries() : nil) else {
            throw EmbeddedPostgresError("""
                PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found under /usr/lib/postgresql. \
                Run deploy/setup to install them, or pass --database-url to use an existing server.
                """)
        }
        self.binDirectory = bin
        // sockaddr_un holds 107 bytes: "<cluster>/.s.PGSQL.5432" must fit.
        if clusterDirectory.utf8.count + 16 > 107 {
            throw EmbeddedPostgresError("the data folder path is too long for a Unix socket (\(clusterDirectory.utf8.count) bytes); choose a shorter --data-dir")
        }
    }

    /// The libpq URL of the hub's database in this cluster.
    public var url: String { url(database: options.database) }

    public func url(database: String) -> String {
        "postgresql:///\(database)?host=\(clusterDirectory)&user=\(Self.role)&connect_timeout=5"
    }

    /// Creates the cluster if needed, starts it, creates the hub's database, and returns its URL.
    ///
    /// One process owns a cluster at a time (an flock on `<data-dir>/embedded.lock`, released by
    /// the kernel even after kill -9). A second process, such as an import next to a running hub,
    /// attaches to the running cluster and leaves it running when it is done.
    @discardableResult
    public func start() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let fm = FileManager.default
        try fm.createDirectory(atPath: options.dataDirectory, withIntermediateDirectories: true)
        let lockPath = options.dataDirectory + "/embedded.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EmbeddedPostgresError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            guard isRunning else {
                throw EmbeddedPostgresError("another process holds \(lockPath) but its PostgreSQL is not running; try again in a moment")
            }
            logger.info("attaching to the embedded PostgreSQL another process runs", ["folder": clusterDirectory])
            return url
        }
        ownerLock = fd
        let asRoot = geteuid() == 0
        if asRoot { try ensureSystemUser() }
        if !fm.fileExists(atPath: clusterDirectory + "/PG_VERSION") {
            try initialize(asRoot: asRoot)
        }
        try writeSettings(asRoot: asRoot)
        try clearLeftoverPostmaster()
        logger.info("starting embedded PostgreSQL", ["folder": clusterDirectory])
        do {
            try Subprocess.check(command(["pg_ctl", "start", "-w", "-t", "60", "-s", "-D", clusterDirectory,
                                          "-l", clusterDirectory + "/server.log"]),
                                 outputFile: clusterDirectory + "/pg_ctl.log")
        } catch {
            releaseOwnership()
            throw error
        }
        running = true
        try createDatabaseIfMissing(options.database)
        return url
    }

    /// Stops the cluster (fast shutdown: open sessions are ended, the data is consistent).
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        defer { releaseOwnership() }
        guard running else { return }
        running = false
        logger.info("stopping embedded PostgreSQL")
        _ = try? Subprocess.run(command(["pg_ctl", "stop", "-w", "-t", "60", "-s", "-m", "fast", "-D", clusterDirectory]),
                                outputFile: clusterDirectory + "/pg_ctl.log")
    }

    /// Lets go of the cluster without stopping it, as a killed process would (tests only).
    public func abandonForTesting() {
        lock.lock()
        defer { lock.unlock() }
        running = false
        releaseOwnership()
    }

    private func releaseOwnership() {
        guard ownerLock >= 0 else { return }
        flock(ownerLock, LOCK_UN)
        close(ownerLock)
        ownerLock = -1
    }

    /// Whether the postmaster answers (used by tests that stop and start it under a running hub).
    public var isRunning: Bool {
        (try? Subprocess.run(command(["pg_ctl", "status", "-s", "-D", clusterDirectory]))) == 0
    }

    /// The postmaster's process id from postmaster.pid, when that process is alive (a zombie left
    /// by a kill -9 is not). Cheap: no subprocess, so a supervisor can poll it often.
    public var livePostmasterID: Int32? {
        guard let pid = Self.postmasterID(in: clusterDirectory) else { return nil }
        return Self.isLivePostgres(pid) ? pid : nil
    }

    /// Whether this process started the cluster, has not stopped it, and its postmaster has died.
    public var hasCrashed: Bool {
        let started = lock.withLock { running && ownerLock >= 0 && !stoppedOnPurpose }
        return started && livePostmasterID == nil
    }

    /// Starts the postmaster again after it died under a running hub. PostgreSQL's crash recovery
    /// replays the write-ahead log, so every committed transaction is kept; `pg_ctl -w` returns
    /// once the server accepts connections again. Throws while the old server's processes linger
    /// (the caller retries with backoff); does nothing when the cluster was stopped meanwhile.
    public func restartAfterCrash() throws {
        lock.lock()
        defer { lock.unlock() }
        guard running, ownerLock >= 0 else { return }
        if livePostmasterID != nil { return }
        try clearLeftoverPostmaster()
        logger.warning("restarting embedded PostgreSQL after it stopped unexpectedly")
        try Subprocess.check(command(["pg_ctl", "start", "-w", "-t", "120", "-s", "-D", clusterDirectory,
                                      "-l", clusterDirectory + "/server.log"]),
                             outputFile: clusterDirectory + "/pg_ctl.log")
    }

    static func postmasterID(in clusterDirectory: String) -> Int32? {
        guard let text = try? String(contentsOfFile: clusterDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return Int32(text.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) ?? "")
    }

    /// A running (not zombie) process whose command line names postgres.
    static func isLivePostgres(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        if state == "Z" || state == "X" { return false }
        let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        return cmdline.contains("postgres")
    }

    /// Stops the server without marking the cluster stopped (tests: simulate an outage that the
    /// supervisor leaves alone, as it would a server stopped on purpose).
    public func stopServerForTesting() throws {
        lock.withLock { stoppedOnPurpose = true }
        try Subprocess.check(command(["pg_ctl", "stop", "-w", "-s", "-m", "fast", "-D", clusterDirectory]),
                             outputFile: clusterDirectory + "/pg_ctl.log")
    }

    /// Starts the server again after `stopServerForTesting`.
    public func startServerForTesting() throws {
        defer { lock.withLock { stoppedOnPurpose = false } }
        try Subprocess.check(command(["pg_ctl", "start", "-w", "-s", "-D", clusterDirectory, "-l", clusterDirectory + "/server.log"]),
                             outputFile: clusterDirectory + "/pg_ctl.log")
    }

    /// Creates a database in the cluster unless it exists.
    public func createDatabaseIfMissing(_ name: String) throws {
        let admin = try PostgresConnection(url: url(database: "postgres"))
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).count > 0
        if !exists {
            try admin.executeScript("CREATE DATABASE \(PostgresConnection.quoteIdentifier(name))")
        }
    }

    // MARK: steps

    private func initialize(asRoot: Bool) throws {
        let fm = FileManager.default
        if let contents = try? fm.contentsOfDirectory(atPath: clusterDirectory), !contents.isEmpty {
            throw EmbeddedPostgresError("\(clusterDirectory) exists but holds no PostgreSQL cluster (no PG_VERSION); move it away or choose another --data-dir")
        }
        try fm.createDirectory(atPath: clusterDirectory, withIntermediateDirectories: true,
                               attributes: [.posixPermissions: 0o700])
        if asRoot { try chownToSystemUser(clusterDirectory) }
        if asRoot, try Subprocess.run(["/usr/sbin/runuser", "-u", options.systemUser, "--", "test", "-w", clusterDirectory]) != 0 {
            throw EmbeddedPostgresError("the system user '\(options.systemUser)' cannot reach \(clusterDirectory): a parent folder is closed to other users; choose a --data-dir outside it")
        }
        logger.info("creating embedded PostgreSQL cluster", ["folder": clusterDirectory])
        var arguments = ["initdb", "-D", clusterDirectory, "-U", Self.role, "--auth=trust", "-E", "UTF8", "--no-locale"]
        if !options.durable { arguments.append("--no-sync") }
        let log = options.dataDirectory + "/initdb.log"
        try Subprocess.check(command(arguments), outputFile: log)
        let conf = clusterDirectory + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: conf))
        handle.seekToEndOfFile()
        handle.write(Data("\n# RecordOnce's settings (rewritten at each start)\ninclude_if_exists = 'recordonce.conf'\n".utf8))
        try handle.close()
    }

    private func writeSettings(asRoot: Bool) throws {
        var settings = """
            # Written by RecordOnce at each start; edit postgresql.conf for your own settings.
            listen_addresses = ''
            unix_socket_directories = '\(clusterDirectory)'
            unix_socket_permissions = 0700
            port = 5432
            max_connections = \(options.maxConnections)
            shared_buffers = '256MB'
            max_wal_size = '2GB'
            logging_collector = off

            """
        if !options.durable {
            settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        }
        let path = clusterDirectory + "/recordonce.conf"
        try settings.write(toFile: path, atomically: true, encoding: .utf8)
        if asRoot { try chownToSystemUser(path) }
    }

    /// A postmaster.pid from a hub that was killed: stop its postmaster if it still runs, or remove
    /// the file if its process is gone (or the pid now belongs to another program).
    private func clearLeftoverPostmaster() throws {
        let pidFile = clusterDirectory + "/postmaster.pid"
        guard let pid = Self.postmasterID(in: clusterDirectory) else { return }
        if Self.isLivePostgres(pid) {
            logger.warning("a PostgreSQL server from an earlier run is still up; restarting it", ["pid": String(pid)])
            _ = try? Subprocess.run(command(["pg_ctl", "stop", "-w", "-t", "60", "-s", "-m", "fast", "-D", clusterDirectory]),
                                    outputFile: clusterDirectory + "/pg_ctl.log")
        }
        if FileManager.default.fileExists(atPath: pidFile) && !Self.isLivePostgres(pid) {
            logger.warning("removing stale postmaster.pid", ["pid": String(pid)])
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        // The socket's lock file names the same postmaster; a killed one not yet reaped (a zombie)
        // still answers kill(pid, 0), and PostgreSQL would refuse to start until it is gone.
        let socketLock = clusterDirectory + "/.s.PGSQL.5432.lock"
        if let text = try? String(contentsOfFile: socketLock, encoding: .utf8),
           let owner = Int32(text.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) ?? ""),
           !Self.isLivePostgres(owner) {
            try? FileManager.default.removeItem(atPath: socketLock)
        }
    }

    private func ensureSystemUser() throws {
        if getpwnam(options.systemUser) != nil { return }
        logger.info("creating system user for PostgreSQL", ["user": options.systemUser])
        let status = try Subprocess.run(["/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                         options.systemUser])
        guard status == 0 || getpwnam(options.systemUser) != nil else {
            throw EmbeddedPostgresError("the system user '\(options.systemUser)' does not exist and could not be created; run deploy/setup")
        }
    }

    private func chownToSystemUser(_ path: String) throws {
        guard let pw = getpwnam(options.systemUser) else {
            throw EmbeddedPostgresError("the system user '\(options.systemUser)' does not exist; run deploy/setup")
        }
        guard chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
            throw EmbeddedPostgresError("cannot hand \(path) to '\(options.systemUser)': \(String(cString: strerror(errno)))")
        }
    }

    /// A PostgreSQL program's command line, run as the system user when we are root.
    private func command(_ arguments: [String]) -> [String] {
        let program = binDirectory + "/" + arguments[0]
        let rest = Array(arguments.dropFirst())
        if geteuid() == 0 {
            return ["/usr/sbin/runuser", "-u", options.systemUser, "--", program] + rest
        }
        return [program] + rest
    }

    /// The newest /usr/lib/postgresql/<version>/bin that has initdb, pg_ctl and postgres.
    static func findServerBinaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        return versions.lazy.compactMap { serverBinaries(in: "\(root)/\($0)/bin") }.first
    }

    /// `folder` when it holds initdb, pg_ctl and postgres.
    static func serverBinaries(in folder: String) -> String? {
        ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: "\(folder)/\($0)") } ? folder : nil
    }
}
