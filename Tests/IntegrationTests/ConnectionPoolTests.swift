import Foundation
import Testing
@testable import Store

@Suite struct ConnectionPoolTests {
    @Test func poolReusesConnectionsAndBoundsThem() throws {
        let pool = ConnectionPool(url: try TestDatabase.fresh(), maxConnections: 3, acquireTimeout: 5)
        let pids = try (0..<5).map { _ in try pool.withConnection { $0.backendPID } }
        #expect(Set(pids).count == 1)
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            _ = try? pool.withConnection { try $0.query("SELECT pg_sleep(0.05)") }
        }
        #expect(pool.usage.inUse == 0)
        #expect(pool.usage.idle <= 3)
    }

    @Test func brokenConnectionIsDiscardedAndTransactionRetried() throws {
        let url = try TestDatabase.fresh()
        let pool = ConnectionPool(url: url, maxConnections: 2)
        let pid = try pool.withConnection { $0.backendPID }
        try PostgresConnection(url: url).query("SELECT pg_terminate_backend($1)", [pid])
        usleep(100_000)
        // The idle connection is dead; the retrying transaction gets a fresh one.
        let answer = try pool.transaction { try $0.query("SELECT 42 AS a").first?["a"] }
        #expect(answer == "42")
        #expect(try pool.withConnection { $0.backendPID } != pid)
    }

    @Test func acquireTimesOutWhenAllConnectionsAreBusy() throws {
        let pool = ConnectionPool(url: try TestDatabase.fresh(), maxConnections: 1, acquireTimeout: 0.2)
        let error = try pool.withConnection { _ in
            try #require(throws: PostgresError.self) { try pool.withConnection { _ in () } }
        }
        #expect(error.kind == .unavailable)
    }
}
