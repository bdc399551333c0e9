import Foundation
import Store

/// The throwaway PostgreSQL for this test run, and a fresh database per test.
///
/// With RECORDONCE_TEST_DATABASE_URL set, tests create their databases on that server; otherwise
/// the first test starts a private cluster with the hub's own embedded mechanism (in a temporary
/// folder, fsync off) and the process stops and deletes it when it exits. A missing server is a
/// failure, never a skip.
enum TestDatabase {
    /// The cluster of this run, started once.
    static let cluster: Result<Cluster, any Error> = Result { try Cluster.start() }

    /// A new, empty database and its URL.
    static func fresh() throws -> String {
        let cluster = try cluster.get()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try PostgresConnection(url: cluster.url(database: "postgres"))
        try admin.executeScript("CREATE DATABASE \(name)")
        return cluster.url(database: name)
    }

    /// A fresh database with the hub's migrations applied.
    static func migrated(_ migrations: [Migration]) throws -> String {
        let url = try fresh()
        try Migrator(migrations: migrations).migrate(PostgresConnection(url: url))
        return url
    }

    struct Cluster: Sendable {
        let url: @Sendable (String) -> String
        let embedded: EmbeddedPostgres?

        func url(database: String) -> String { url(database) }

        static func start() throws -> Cluster {
            if let external = ProcessInfo.processInfo.environment["RECORDONCE_TEST_DATABASE_URL"], !external.isEmpty {
                return Cluster(url: { database in
                    var components = URLComponents(string: external)!
                    components.path = "/" + database
                    return components.string!
                }, embedded: nil)
            }
            let folder = "/tmp/ro-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            let postgres = try EmbeddedPostgres(options: EmbeddedPostgresOptions(dataDirectory: folder, durable: false, maxConnections: 1000))
            try postgres.start()
            TestClusterCleanup.register(postgres, folder: folder)
            return Cluster(url: { postgres.url(database: $0) }, embedded: postgres)
        }
    }
}

/// Stops the run's cluster and deletes its folder when the test process exits.
enum TestClusterCleanup {
    nonisolated(unsafe) static var postgres: EmbeddedPostgres?
    nonisolated(unsafe) static var folder: String?

    static func register(_ postgres: EmbeddedPostgres, folder: String) {
        self.postgres = postgres
        self.folder = folder
        atexit {
            TestClusterCleanup.postgres?.stop()
            if let folder = TestClusterCleanup.folder { try? FileManager.default.removeItem(atPath: folder) }
        }
    }
}

/// A temporary folder for one test, removed by the caller's `defer`.
func temporaryFolder(_ prefix: String = "ro") throws -> String {
    let path = "/tmp/\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o755])
    return path
}
