import Foundation
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
