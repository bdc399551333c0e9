import Foundation
import Store

/// Reads a department's table page by page in (cursor, key) order with parameterized queries.
/// The checkpoint of a page is its last row's cursor and key (`{"since":..., "key":...}`); a
/// hand-written plain checkpoint is a cursor value to restart from (inclusive).
final class PostgresTableSource: PullSource, @unchecked Sendable {
    let settings: PostgresTableSettings
    let context: PullContext
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var runEnded = false

    init(settings: PostgresTableSettings, context: PullContext) {
        self.settings = settings
        self.context = context
    }

    var tableName: String { (settings.schema.map { $0 + "." } ?? "") + settings.table }

    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? {
        lock.lock()
        defer { lock.unlock() }
        if runEnded {
            runEnded = false
            return nil
        }
        var position = PullPosition(checkpoint: checkpoint)
        if position.since == nil, let initial = settings.initialCheckpoint { position.since = initial }
        let name = "SELECT \(tableName) after \(position.since ?? "the start")"
        let connection = try connect()
        let result: QueryResult
        do {
            switch (position.since, position.key) {
            case (let since?, let key?): result = try connection.query(settings.query(after: true, cursorOnly: false), [since, key])
            case (let since?, nil): result = try connection.query(settings.query(after: true, cursorOnly: true), [since])
            default: result = try connection.query(settings.query(after: false, cursorOnly: false))
            }
        } catch {
            self.connection = nil
            throw Self.failure(error, page: name)
        }
        guard result.count > 0 else { return nil }
        var body: [UInt8] = []
        let path = settings.recordsPath?.split(separator: ".").map(String.init) ?? []
        for part in path { body.append(contentsOf: "{\"\(part)\":".utf8) }
        body.append(UInt8(ascii: "["))
        var last = PullPosition()
        for i in 0..<result.count {
            let row = result[i]
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: (row[0] ?? "null").utf8)
            if i == result.count - 1 { last.since = row[1]; last.key = row[2] }
        }
        body.append(UInt8(ascii: "]"))
        for _ in path { body.append(UInt8(ascii: "}")) }
        guard last.since != nil, last.key != nil else {
            throw PullFailure(.permanent, "\(name): the cursor or key column of the last row is NULL; both must be set on every row")
        }
        runEnded = result.count < settings.pageSize
        return PulledPage(body: body, name: name + " (\(result.count) rows)", checkpoint: last.text)
    }

    func didStore(_ page: PulledPage) throws(PullFailure) {}

    private func connect() throws(PullFailure) -> PostgresConnection {
        if let connection, connection.isOpen { return connection }
        let url = try context.secret(settings.connection, for: "pull.connection")
        do {
            let opened = try PostgresConnection(url: url)
            connection = opened
            return opened
        } catch {
            throw Self.failure(error, page: "connecting to the department's database")
        }
    }

    /// Connection loss, unavailability and conflicts pass; bad credentials, unknown tables or
    /// columns and type errors need an admin.
    static func failure(_ error: any Error, page: String) -> PullFailure {
        guard let error = error as? PostgresError else { return PullFailure(.retriable, "\(page): \(error)") }
        switch error.kind {
        case .connection, .unavailable, .conflict:
            return PullFailure(.retriable, "\(page): \(error)")
        default:
            return PullFailure(.permanent, "\(page): \(error)")
        }
    }
}
