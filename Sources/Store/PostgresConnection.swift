import CLibPQ
import Foundation

/// One libpq connection.
///
/// Not thread-safe: one user at a time. The `ConnectionPool` hands a connection out exclusively.
/// Every statement takes its values as parameters (`$1`, `$2`, ...); values are never spliced
/// into SQL text.
public final class PostgresConnection: @unchecked Sendable {
    let conn: OpaquePointer
    private var transactionDepth = 0

    /// Connects with a URL (`postgresql://user@host:port/db?...`) or a libpq key=value string.
    public init(url: String) throws(PostgresError) {
        guard let conn = PQconnectdb(url) else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let raw = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(conn)
            throw PostgresError(kind: Self.classifyConnectFailure(raw), message: raw.isEmpty ? "connection failed" : raw)
        }
        self.conn = conn
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        // No JIT compilation on the hub's sessions. The hub's statements are short OLTP queries;
        // on a young, growing change log without statistics the planner's estimate for the feed
        // pump's read crossed jit_above_cost (100,000) and every pump round spent ~60 ms
        // compiling the same query until autovacuum's ANALYZE ran (the latency step after ~25 s
        // in issue 15). Compiling never pays back for queries that run in a few milliseconds.
        // An operator who sets jit explicitly (PGOPTIONS="-c jit=on") keeps that setting.
        if !(ProcessInfo.processInfo.environment["PGOPTIONS"] ?? "").contains("jit") {
            let settings = PQexec(conn, "SET jit = off")
            PQclear(settings)
        }
    }

    deinit { PQfinish(conn) }

    /// Connection failures carry no SQLSTATE: tell refused credentials and missing databases
    /// (retrying cannot help) from an unreachable server (it may come back).
    static func classifyConnectFailure(_ message: String) -> PostgresError.Kind {
        if message.contains("authentication") || message.contains("password") || message.contains("pg_hba.conf")
            || (message.contains("role \"") && message.contains("does not exist")) {
            return .authentication
        }
        if message.contains("database \"") && message.contains("does not exist") { return .server }
        return .connection
    }

    /// Whether the connection is still usable (false after the server went away).
    public var isOpen: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Whether a transaction is open on this connection (also after an error inside it).
    public var inTransaction: Bool { PQtransactionStatus(conn) != PQTRANS_IDLE }

    /// The server's process id for this session (tests use it to terminate a session).
    public var backendPID: Int32 { PQbackendPID(conn) }

    /// Runs one statement and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws(PostgresError) -> QueryResult {
        let result: OpaquePointer? = withParameterPointers(parameters) { values, count in
            PQexecParams(conn, sql, count, nil, values, nil, nil, 0)
        }
        return try check(result, sql: sql)
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs several statements with no parameters (migrations, set-up scripts).
    public func executeScript(_ sql: String) throws(PostgresError) {
        let result = PQexec(conn, sql)
        _ = try check(result, sql: sql)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// Nested calls use savepoints.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let depth = transactionDepth
        try executeScript(depth == 0 ? "BEGIN" : "SAVEPOINT s\(depth)")
        transactionDepth += 1
        defer { transactionDepth = depth }
        do {
            let value = try body(self)
            try executeScript(depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT s\(depth)")
            return value
        } catch {
            if isOpen {
                try? executeScript(depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT s\(depth)")
            }
            throw error
        }
    }

    // MARK: COPY

    /// Streams rows into `COPY ... FROM STDIN` (text format) and returns how many rows were loaded.
    ///
    /// `sql` is the COPY statement, for example `COPY landing (a, b) FROM STDIN`.
    /// The writer buffers rows and sends them in large chunks.
    @discardableResult
    public func copyIn(_ sql: String, _ write: (inout CopyWriter) throws -> Void) throws -> Int {
        let start = PQexec(conn, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try check(start, sql: sql)
            throw PostgresError(kind: .server, message: "statement did not start COPY FROM STDIN", statement: sql)
        }
        PQclear(start)
        var writer = CopyWriter(connection: self)
        do {
            try write(&writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(conn, "aborted by client")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw lastError(sql) }
        let result = PQgetResult(conn)
        let checked = try check(result, sql: sql)
        drainResults()
        return checked.affectedRows
    }

    func putCopyData(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        guard bytes.count > 0 else { return }
        let ok = PQputCopyData(conn, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        guard ok == 1 else { throw lastError("COPY") }
    }

    // MARK: LISTEN / NOTIFY

    /// Subscribes this session to a channel.
    public func listen(_ channel: String) throws(PostgresError) {
        try executeScript("LISTEN \(Self.quoteIdentifier(channel))")
    }

    /// Sends a notification (the payload is a parameter, never spliced).
    public func notify(_ channel: String, payload: String = "") throws(PostgresError) {
        try execute("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// A notification received on a channel this session listens to.
    public struct Notification: Sendable {
        public let channel: String
        public let payload: String
        public let senderPID: Int32
    }

    /// Waits up to `timeout` seconds for notifications and returns those that arrived (maybe none).
    public func waitForNotifications(timeout: Double) throws(PostgresError) -> [Notification] {
        var received = consumeNotifications()
        if !received.isEmpty { return received }
        let socket = PQsocket(conn)
        guard socket >= 0 else { throw lastError("LISTEN") }
        var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(max(0, timeout * 1000)))
        if ready < 0 && errno != EINTR {
            throw PostgresError(kind: .connection, message: "poll failed: \(String(cString: strerror(errno)))")
        }
        if ready > 0 {
            guard PQconsumeInput(conn) == 1 else { throw lastError("LISTEN") }
            received = consumeNotifications()
        }
        return received
    }

    private func consumeNotifications() -> [Notification] {
        PQconsumeInput(conn)
        var out: [Notification] = []
        while let n = PQnotifies(conn) {
            out.append(Notification(channel: String(cString: n.pointee.relname),
                                    payload: String(cString: n.pointee.extra), senderPID: n.pointee.be_pid))
            PQfreemem(n)
        }
        return out
    }

    // MARK: helpers

    /// Quotes an identifier (table, channel) for the rare places SQL needs a name, not a value.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func check(_ result: OpaquePointer?, sql: String) throws(PostgresError) -> QueryResult {
        guard let result else { throw lastError(sql) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return QueryResult(result)
        default:
            let error = PostgresError.from(result: result, connection: conn, statement: sql)
            PQclear(result)
            throw error
        }
    }

    private func lastError(_ sql: String) -> PostgresError {
        PostgresError.from(result: nil, connection: conn, statement: sql)
    }

    private func drainResults() {
        while let r = PQgetResult(conn) { PQclear(r) }
    }

    private func withParameterPointers<R>(_ parameters: [any PostgresEncodable],
                                          _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> R) -> R {
        if parameters.isEmpty { return body(nil, 0) }
        let texts = parameters.map { $0.postgresText }
        var pointers: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                body($0, Int32(buffer.count))
            }
        }
    }
}

/// Buffers rows in COPY text format and sends them to the server in chunks.
public struct CopyWriter {
    let connection: PostgresConnection
    private var buffer: [UInt8] = []
    private let chunkSize = 256 * 1024
    public private(set) var rows = 0

    init(connection: PostgresConnection) {
        self.connection = connection
        buffer.reserveCapacity(chunkSize + 4096)
    }

    /// Appends one row; `nil` is SQL NULL. Tabs, newlines and backslashes are escaped.
    public mutating func appendRow(_ columns: [String?]) throws {
        for (i, column) in columns.enumerated() {
            if i > 0 { buffer.append(9) }
            guard var column else { buffer.append(92); buffer.append(78); continue }
            column.withUTF8 { appendEscaped($0) }
        }
        buffer.append(10)
        rows += 1
        if buffer.count >= chunkSize { try flush() }
    }

    /// Appends one column's text, escaping what COPY's text format treats specially (backslash,
    /// tab, newline, carriage return); runs of ordinary bytes are copied at once. Eight bytes are
    /// tested at a time: a word with no byte below 0x0E and no backslash is skipped whole (most
    /// words of record JSON), the others are looked at byte by byte.
    private mutating func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var start = 0
        var i = 0
        while i < count {
            if i + 8 <= count, !Self.mayNeedEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                i += 8
                continue
            }
            let byte = base[i]
            if byte == 92 || byte == 9 || byte == 10 || byte == 13 {
                buffer.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
                buffer.append(92)
                buffer.append(byte == 92 ? 92 : byte == 9 ? 116 : byte == 10 ? 110 : 114)
                start = i + 1
            }
            i += 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(start: base + start, count: count - start))
    }

    /// Whether one of the eight bytes is below 0x0E or a backslash (never false when one is;
    /// sometimes true when none needs escaping, which only costs the byte-by-byte look).
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let below14 = (word &- ones &* 14) & ~word & highs
        let x = word ^ (ones &* 0x5C)
        let backslash = (x &- ones) & ~x & highs
        return (below14 | backslash) != 0
    }

    /// Sends what is buffered.
    public mutating func flush() throws {
        try buffer.withUnsafeBytes { try connection.putCopyData($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The rows of one statement's result (text format).
public final class QueryResult: @unchecked Sendable {
    let result: OpaquePointer
    public let count: Int
    public let columns: [String]

    init(_ result: OpaquePointer) {
        self.result = result
        self.count = Int(PQntuples(result))
        self.columns = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
    }

    deinit { PQclear(result) }

    /// Rows changed by INSERT/UPDATE/DELETE/COPY (0 for other statements).
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    public subscript(row: Int) -> Row { Row(result: self, index: row) }

    public var rows: [Row] { (0..<count).map { Row(result: self, index: $0) } }

    public var first: Row? { count > 0 ? self[0] : nil }

    func columnIndex(_ name: String) -> Int? {
        let i = PQfnumber(result, name)
        return i < 0 ? nil : Int(i)
    }
}

/// One row of a `QueryResult`. Columns are read by index or by name.
public struct Row: Sendable {
    let result: QueryResult
    public let index: Int

    /// The column's text, or nil for SQL NULL.
    public subscript(column: Int) -> String? {
        guard PQgetisnull(result.result, Int32(index), Int32(column)) == 0 else { return nil }
        return String(cString: PQgetvalue(result.result, Int32(index), Int32(column)))
    }

    public subscript(column: String) -> String? {
        guard let i = result.columnIndex(column) else { return nil }
        return self[i]
    }

    /// Decodes a non-null column; a NULL, a missing column or text that does not decode throws,
    /// naming the column and the type (not the value).
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws(PostgresError) -> T {
        guard let i = result.columnIndex(column) else {
            throw PostgresError(kind: .decoding, message: "no column \"\(column)\" in the result")
        }
        guard let text = self[i] else {
            throw PostgresError(kind: .decoding, message: "column \(column) is NULL, expected \(T.self)")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(kind: .decoding, message: "column \(column) does not decode as \(T.self)")
        }
        return value
    }

    /// Decodes a nullable column (NULL gives nil).
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws(PostgresError) -> T? {
        guard let i = result.columnIndex(column), self[i] != nil else { return nil }
        return try decode(type, column)
    }
}
