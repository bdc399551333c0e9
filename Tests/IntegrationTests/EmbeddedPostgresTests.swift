import Foundation
import Telemetry
import Testing
@testable import Store

@Suite(.serialized) struct EmbeddedPostgresTests {
    @Test func createsThenReusesTheClusterAndItsData() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try first.start()
        try PostgresConnection(url: first.url).executeScript("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
        first.stop()
        #expect(!first.isRunning)

        let second = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try second.start()
        defer { second.stop() }
        #expect(try PostgresConnection(url: second.url).query("SELECT v FROM kept").first?["v"] == "7")
    }

    @Test func startsAfterAKilledHubLeftItsPostmasterRunning() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let killedHub = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try killedHub.start()
        // The hub "dies" without stopping its cluster; the next hub must still start.
        killedHub.abandonForTesting()
        let next = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try next.start()
        defer { next.stop() }
        #expect(try PostgresConnection(url: next.url).query("SELECT 1 AS one").first?["one"] == "1")
    }

    @Test func aStalePidFileDoesNotBlockTheStart() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pg = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try pg.start()
        pg.stop()
        // A pid that belongs to no postgres: this test process's own.
        let pidFile = pg.clusterDirectory + "/postmaster.pid"
        try "\(getpid())\n\(pg.clusterDirectory)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        if geteuid() == 0, let pw = getpwnam(pg.options.systemUser) { chown(pidFile, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        try pg.start()
        defer { pg.stop() }
        #expect(pg.isRunning)
    }

    @Test func aSecondProcessAttachesToTheRunningClusterAndLeavesItRunning() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let owner = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try owner.start()
        defer { owner.stop() }
        let importer = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        try importer.start()
        #expect(!importer.isOwner)
        #expect(owner.isOwner)
        importer.stop()
        #expect(owner.isRunning)
        #expect(try PostgresConnection(url: owner.url).query("SELECT 1 AS one").first?["one"] == "1")
    }

    @Test func theSupervisorRestartsAKilledPostmasterAndKeepsWhatWasCommitted() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pg = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: true))
        try pg.start()
        defer { pg.stop() }
        try PostgresConnection(url: pg.url).executeScript("CREATE TABLE kept (v int); INSERT INTO kept SELECT generate_series(1, 100)")
        let logPath = folder + "/hub.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let metrics = MetricsRegistry()
        let recoveries = Counter.testing(metrics)
        let supervisor = EmbeddedPostgresSupervisor(database: pg, logger: Logger(label: "postgres", output: logFile),
                                                    metrics: metrics) { recoveries.increment() }
        supervisor.start()
        defer { supervisor.stop() }

        let killed = try #require(pg.livePostmasterID)
        #expect(kill(killed, SIGKILL) == 0)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !(supervisor.state == .up && pg.livePostmasterID.map { $0 != killed } == true) {
            usleep(100_000)
        }
        #expect(pg.livePostmasterID.map { $0 != killed } == true, "the postmaster was not restarted")
        #expect(recoveries.value() == 1)
        #expect(try PostgresConnection(url: pg.url).query("SELECT count(*) AS n FROM kept").first?["n"] == "100")
        let rendered = metrics.render()
        #expect(rendered.contains("recordonce_embedded_database_crashes_total 1"))
        #expect(rendered.contains("recordonce_embedded_database_restarts_total{outcome=\"succeeded\"} 1"))
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("embedded PostgreSQL stopped unexpectedly"))
        #expect(log.contains("embedded PostgreSQL is back after a crash"))

        // A cluster stopped on purpose (the hub shutting down) is not a crash.
        pg.stop()
        usleep(1_500_000)
        #expect(!pg.isRunning)
    }

    @Test func missingServerBinariesSayToRunSetup() throws {
        let error = try #require(throws: EmbeddedPostgresError.self) {
            try EmbeddedPostgres(options: .init(dataDirectory: "/tmp/x", binDirectory: "/nonexistent/bin"))
        }
        #expect(error.description.contains("deploy/setup"))
    }

    @Test func aFolderThatIsNotAClusterIsRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/postgres", withIntermediateDirectories: true)
        try "x".write(toFile: folder + "/postgres/unrelated.txt", atomically: true, encoding: .utf8)
        let pg = try EmbeddedPostgres(options: .init(dataDirectory: folder, durable: false))
        #expect(throws: EmbeddedPostgresError.self) { try pg.start() }
    }
}

extension Counter {
    /// A counter of this test's own, in `metrics`.
    static func testing(_ metrics: MetricsRegistry) -> Counter {
        metrics.counter("test_recoveries_total", help: "Recoveries seen by the test.")
    }
}
