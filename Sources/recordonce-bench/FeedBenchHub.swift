import Foundation
import HTTPClient
import Store

/// A real hub for the feed benchmarks: an embedded PostgreSQL cluster the benchmark owns (so it
/// can read the change log head and load backlogs directly) and a separate `recordonce serve`
/// process (release build) on a free local port, with pulls off and the police register's push
/// token set. The benchmark talks to it over HTTP like any client.
final class FeedBenchHub {
    static let adminToken = "feed-bench-admin-token-0123456789"
    static let pushToken = "feed-bench-police-push-token-0123456789"

    let cluster: EmbeddedPostgres
    let databaseURL: String
    let connection: PostgresConnection
    let port: Int
    private var pid: pid_t = 0
    private let client = HTTPClient()

    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts a fresh cluster in `work` (removed first) and the hub on it; waits until /readyz answers.
    /// `durable` keeps fsync and synchronous commit on, as in production.
    init(binary: String, work: String, durable: Bool) throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchmarkError("\(binary) is missing (build it: swift build -c release --product recordonce)")
        }
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        cluster = try EmbeddedPostgres(options: EmbeddedPostgresOptions(dataDirectory: work + "/pg", durable: durable))
        databaseURL = try cluster.start()
        connection = try PostgresConnection(url: databaseURL)
        _ = try Migrator(migrations: Schema.migrations).migrate(connection)
        port = try Self.freePort()
        // For looking at a running benchmark from outside (curl, a second client).
        try String(port).write(toFile: work + "/hub.port", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["RECORDONCE_ADMIN_TOKEN"] = Self.adminToken
        environment["RECORDONCE_TOKEN_POLICE_HUKOU"] = Self.pushToken
        pid = try Self.spawn(binary, ["serve", "--database-url", databaseURL, "--port", String(port), "--pulls", "off",
                                      "--log-level", "warning"], environment: environment, log: work + "/serve.log")
        let deadline = Date().addingTimeInterval(60)
        while true {
            if let r = try? client.send(HTTPClientRequest(url: base + "/readyz", timeout: 2, connectTimeout: 1)), r.status == 200 { break }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                throw BenchmarkError("recordonce serve exited during startup; see \(work)/serve.log")
            }
            guard Date() < deadline else { throw BenchmarkError("recordonce serve not ready within 60 s; see \(work)/serve.log") }
            usleep(100_000)
        }
    }

    /// Stops the hub (SIGTERM, then waits) and the cluster.
    func stop() {
        if pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<300 {
                if waitpid(pid, &status, WNOHANG) == pid { pid = 0; break }
                usleep(50_000)
            }
            if pid > 0 { kill(pid, SIGKILL); waitpid(pid, &status, 0); pid = 0 }
        }
        cluster.stop()
    }

    /// The hub process id (for its resource usage in /proc).
    var processID: pid_t { pid }

    /// Creates a subscription to every Person and Household of district 510108; returns its token.
    func subscribe(name: String) throws -> String {
        let spec = #"{"name":"\#(name)","purpose":"feed benchmark","resources":["Person","Household"],"area":["510108"]}"#
        let response = try send("POST", "/v1/subscriptions", token: Self.adminToken, body: Array(spec.utf8))
        guard response.status == 201,
              let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let token = body["token"] as? String else {
            throw BenchmarkError("POST /v1/subscriptions answered \(response.status)")
        }
        return token
    }

    /// Creates a subscription like `subscribe(name:)` (Person and Household of 510108) with its own
    /// masking policies (`Resource.field` -> plain/masked/pseudonymized); returns its token.
    func subscribe(name: String, masking: [String: String]) throws -> String {
        var spec: [String: Any] = ["name": name, "purpose": "feed benchmark", "resources": ["Person", "Household"], "area": ["510108"]]
        if !masking.isEmpty { spec["masking"] = masking }
        let body = try JSONSerialization.data(withJSONObject: spec)
        let response = try send("POST", "/v1/subscriptions", token: Self.adminToken, body: Array(body))
        guard response.status == 201,
              let answer = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let token = answer["token"] as? String else {
            throw BenchmarkError("POST /v1/subscriptions answered \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return token
    }

    /// How many events a subscription sees after `after` (pull pages of NDJSON up to the head).
    func countEvents(token: String, after: Int64) throws -> Int {
        var cursor = after, count = 0
        while true {
            let r = try send("GET", "/v1/feed?after=\(cursor)&limit=1000&format=ndjson", token: token)
            guard r.status == 200, let next = r.header("RecordOnce-Next-Position").flatMap({ Int64($0) }) else {
                throw BenchmarkError("GET /v1/feed answered \(r.status)")
            }
            count += r.body.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            if next <= cursor { return count }
            cursor = next
        }
    }

    /// One request to the hub.
    func send(_ method: String, _ path: String, token: String, body: [UInt8] = [], timeout: Double = 30) throws -> HTTPClientResponse {
        var headers = [("Authorization", "Bearer " + token)]
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        return try client.send(HTTPClientRequest(method: method, url: base + path, headers: headers, body: body, timeout: timeout))
    }

    /// The last change log position.
    func head() throws -> Int64 { try ChangeLog.head(connection) }

    /// A local TCP port nobody listens on right now (bound to port 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkError("socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchmarkError("cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts a program with its stdout dropped and stderr appended to `log`; returns its pid.
    static func spawn(_ program: String, _ arguments: [String], environment: [String: String], log: String) throws -> pid_t {
        var pid: pid_t = 0
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0.key + "=" + $0.value) } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard spawned == 0 else { throw BenchmarkError("cannot start \(program): \(String(cString: strerror(spawned)))") }
        return pid
    }

    /// Raises this process's open-file limit to its hard limit (children inherit it); returns the new soft limit.
    @discardableResult
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }

    /// The 1-minute load average, for the report.
    static func loadAverage() -> String {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) == 3 ? String(format: "%.2f %.2f %.2f", loads[0], loads[1], loads[2]) : "unknown"
    }

    /// Autovacuum and autoanalyze runs so far over the hub's tables, and the change log's own
    /// (pg_stat_user_tables on `connection`, which must be used by one thread at a time).
    static func maintenanceCounts(_ connection: PostgresConnection) -> [Int] {
        let sql = """
            SELECT coalesce(sum(autovacuum_count), 0)::bigint AS v, coalesce(sum(autoanalyze_count), 0)::bigint AS a,
                   coalesce(sum(autovacuum_count) FILTER (WHERE relname = 'change_log'), 0)::bigint AS cv,
                   coalesce(sum(autoanalyze_count) FILTER (WHERE relname = 'change_log'), 0)::bigint AS ca
            FROM pg_stat_user_tables
            """
        guard let row = (try? connection.query(sql))?.first else { return [-1, -1, -1, -1] }
        return ["v", "a", "cv", "ca"].map { (try? row.decode(Int64.self, $0)).map { Int($0) } ?? -1 }
    }
}

/// Samples, once a second while a benchmark runs, what else happened: caller-supplied counters
/// (pushes, events received), autovacuum/autoanalyze runs, and the hub's CPU and memory. Written
/// as tab-separated text next to the latency samples so a slowdown can be lined up with its cause.
final class ActivitySampler: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var rows: [String] = []
    private let done = DispatchSemaphore(value: 0)
    private(set) var rssKilobytes: [Int] = []

    /// Starts sampling; `counters` returns named numbers to record each second.
    init(hub: FeedBenchHub, start: UInt64, counters: @escaping @Sendable () -> [(String, Int)]) {
        let header = ["second"] + counters().map(\.0) + ["autovacuum", "autoanalyze", "change_log_autovacuum",
                                                         "change_log_autoanalyze", "hub_cpu_percent", "hub_rss_mb", "load1"]
        rows.append(header.joined(separator: "\t"))
        // Its own connection: the benchmark's is used by its main thread.
        let connection = try? PostgresConnection(url: hub.databaseURL)
        let pid = hub.processID
        let thread = Thread { [self] in
            var second = 1
            var previous = ProcessUsage(pid: pid)
            while !lock.withLock({ stopped }) {
                let due = start + UInt64(second) * 1_000_000_000
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(UInt32(min(200_000, (due - now) / 1000))); continue }
                let values = counters().map { String($0.1) }
                let m = connection.map { FeedBenchHub.maintenanceCounts($0) } ?? [-1, -1, -1, -1]
                let usage = ProcessUsage(pid: pid)
                var cpu = "-"
                if let usage, let previous, usage.at > previous.at {
                    cpu = String(format: "%.0f", 100 * (usage.cpuSeconds - previous.cpuSeconds) / (Double(usage.at - previous.at) / 1e9))
                }
                previous = usage
                var loads = [Double](repeating: 0, count: 3)
                _ = getloadavg(&loads, 3)
                let row = [String(second)] + values + m.map(String.init) + [cpu,
                                                      usage.map { String($0.rssKilobytes / 1024) } ?? "-",
                                                      String(format: "%.2f", loads[0])]
                lock.withLock {
                    rows.append(row.joined(separator: "\t"))
                    if let usage { rssKilobytes.append(usage.rssKilobytes) }
                }
                second += 1
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling and returns the table (header first).
    func stop() -> [String] {
        lock.withLock { stopped = true }
        done.wait()
        return lock.withLock { rows }
    }

    /// Resident memory samples so far (kB, one a second).
    var rss: [Int] { lock.withLock { rssKilobytes } }
}
