import Adapters
import DemoDepartments
import Foundation
import Store
import Testing

/// postgres-table against the health system's reporting replica (a table in a department database).
@Suite struct PostgresTableConformanceTests {
    /// A department database holding the health archive of a small district.
    static func department() throws -> (url: String, archive: HealthArchiveTable, rows: Int) {
        let url = try TestDatabase.fresh()
        let archive = HealthArchiveTable(connection: try PostgresConnection(url: url))
        let rows = try archive.create(from: DemoPopulation(seed: 7, residents: 300))
        return (url, archive, rows)
    }

    static func source(_ url: String, columns: String = "", pageSize: Int = 40) throws -> any PullSource {
        let node = try pullSettings("""
            { kind: 'postgres-table', connection: { env: 'HEALTH_DB' }, table: 'health_archive.health_record',
              cursor: 'gxsj', key: 'jkdabh', pageSize: \(pageSize) \(columns) }
            """)
        #expect(PostgresTableKind.validate(node, file: "health.json5").isEmpty)
        return try PostgresTableKind.makeSource(node, context: pullContext("health-records", secrets: ["HEALTH_DB": url]))
    }

    @Test func aRestartFromTheCheckpointLosesAndDoublesNothing() throws {
        let (url, archive, rows) = try Self.department()
        #expect(rows > 200)
        let whole = try ConformanceStore(adapterID: "health-records", department: "health")
        let pages = try whole.run(try Self.source(url))
        #expect(pages.count == (rows + 39) / 40)

        let interrupted = try ConformanceStore(adapterID: "health-records", department: "health")
        try interrupted.run(try Self.source(url), maxPages: 3)
        #expect(try interrupted.checkpoint()?.contains("\"key\"") == true)
        try interrupted.run(try Self.source(url))
        #expect(try interrupted.totals() == whole.totals())
        #expect(try interrupted.totals().keys == rows)
        #expect(try interrupted.changeLog() == whole.changeLog())

        #expect(try interrupted.run(try Self.source(url)).isEmpty, "nothing changed")
        let touched = try archive.touch(3)
        let next = try interrupted.run(try Self.source(url))
        #expect(next.count == 1)
        #expect(next.first.map { String(decoding: $0.body, as: UTF8.self) }.map { body in touched.allSatisfy { body.contains($0) } } == true)
        #expect(try interrupted.totals().landed == whole.totals().landed + 3)
    }

    @Test func anUnreachableDatabaseIsRetriableAndAWrongColumnPermanent() throws {
        let (url, _, _) = try Self.department()
        let down = try PostgresTableKind.makeSource(try pullSettings("""
            { kind: 'postgres-table', connection: { env: 'HEALTH_DB' }, table: 'health_archive.health_record', cursor: 'gxsj', key: 'jkdabh' }
            """), context: pullContext("health-records", secrets: ["HEALTH_DB": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"]))
        let refused = pullFailure { () throws(PullFailure) in try down.nextPage(after: nil) }
        #expect(refused?.kind == .retriable)

        let wrong = try Self.source(url, columns: ", columns: ['jkdabh', 'no_such_column']")
        let failure = pullFailure { () throws(PullFailure) in try wrong.nextPage(after: nil) }
        #expect(failure?.kind == .permanent)
    }

    @Test func identifiersAreValidatedAndEveryProblemReported() throws {
        let problems = PostgresTableKind.validate(try pullSettings("""
            { kind: 'postgres-table', connection: 'postgresql://user:secret@db/x', table: 'x; DROP TABLE y', cursor: '1abc',
              columns: ['ok', 'not ok'], pageSize: -1 }
            """), file: "t.json5")
        let paths = Set(problems.map(\.path))
        for path in ["pull.connection", "pull.table", "pull.cursor", "pull.key", "pull.columns[1]", "pull.pageSize"] {
            #expect(paths.contains(path), "\(path) in \(problems.map(\.description))")
        }
        #expect(!problems.contains { $0.description.contains("secret@") }, "never the connection string")
    }
}
