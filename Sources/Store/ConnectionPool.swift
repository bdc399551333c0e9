import Foundation
import Telemetry

/// A fixed-size pool of connections to one database, for threads that block on PostgreSQL.
///
/// Connections are opened lazily and handed out exclusively. A connection that comes back broken
/// (the server restarted, the network dropped) is discarded, so the pool heals on its own once
/// the server is reachable again.
public final class ConnectionPool: @unchecked Sendable {
    public let url: String
    public let maxConnections: Int
    /// How long `withConnection` waits for a free connection before failing.
    public let acquireTimeout: Double

    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var inUse = 0
    private var closed = false

    public init(url: String, maxConnections: Int = 8, acquireTimeout: Double = 10) {
        self.url = url
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
    }

    /// Runs `body` with a connection of the pool. A connection left in a transaction or broken is
    /// not reused.
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        var reusable = false
        defer { release(connection, reusable: reusable) }
        let value = try body(connection)
        reusable = connection.isOpen && !connection.inTransaction
        return value
    }

    /// Runs `body` in a transaction, retrying up to `attempts` times while the failure is retriable
    /// (lost connection, serialization failure, deadlock).
    @discardableResult
    public func transaction<T>(attempts: Int = 3, _ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try withConnection { try $0.transaction(body) }
            } catch let error as PostgresError where error.isRetriable && attempt < attempts {
                attempt += 1
                usleep(UInt32(20_000 * attempt))
            }
        }
    }

    /// Counts for /metrics.
    public var usage: (idle: Int, inUse: Int, max: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (idle.count, inUse, maxConnections)
    }

    /// Registers the pool's gauge (`recordonce_db_pool_connections{state}`) in a metrics registry.
    public func register(in metrics: MetricsRegistry) {
        metrics.gauge("recordonce_db_pool_connections", help: "Database pool connections by state.",
                      labels: ["state"]) { [weak self] in
            guard let u = self?.usage else { return [] }
            return [(["idle"], Double(u.idle)), (["in_use"], Double(u.inUse)), (["max"], Double(u.max))]
        }
    }

    /// Drops the idle connections (after the server restarted they are all broken) so the next
    /// callers open fresh ones instead of each failing once on a dead socket.
    public func discardIdle() {
        condition.lock()
        idle.removeAll()
        condition.unlock()
    }

    /// Closes idle connections and refuses new work; connections in use close when returned.
    public func close() {
        condition.lock()
        closed = true
        idle.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func acquire() throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(acquireTimeout)
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw PostgresError(kind: .unavailable, message: "the connection pool is closed")
            }
            if let connection = idle.popLast() {
                inUse += 1
                condition.unlock()
                return connection
            }
            if inUse < maxConnections {
                inUse += 1
                condition.unlock()
                do {
                    return try PostgresConnection(url: url)
                } catch {
                    condition.lock()
                    inUse -= 1
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            }
            if !condition.wait(until: deadline) {
                condition.unlock()
                throw PostgresError(kind: .unavailable,
                                    message: "no database connection free within \(acquireTimeout) s (pool of \(maxConnections))")
            }
        }
    }

    private func release(_ connection: PostgresConnection, reusable: Bool) {
        condition.lock()
        inUse -= 1
        if reusable && !closed { idle.append(connection) }
        condition.signal()
        condition.unlock()
    }
}
