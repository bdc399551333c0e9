import Adapters
import DemoDepartments
import Foundation
import JSON5
import Mapping
import RecordStore
import SourceFormats
import Store
import Testing
@testable import Hub

/// Drives a pull source the way the scheduler does, storing each page with its checkpoint
/// through the real record store, and reads back what landed.
final class ConformanceStore: @unchecked Sendable {
    let hub: TestHub
    let adapterID: String

    /// A hub on a fresh database with `adapterID` declared against its shipped mapping.
    init(adapterID: String, department: String) throws {
        self.adapterID = adapterID
        hub = try TestHub(adapters: [
            "\(adapterID).json5": #"{ id: "\#(adapterID)", department: "\#(department)", mapping: "\#(adapterID).json5" }"#,
        ])
    }

    /// The checkpoint stored for the adapter (nil before the first page).
    func checkpoint() throws -> String? {
        let connection = try PostgresConnection(url: hub.hub.databaseURL)
        return try connection.query("SELECT checkpoint FROM adapter_checkpoints WHERE adapter = $1", [adapterID]).first?[0]
    }

    /// Stores one page and its checkpoint in one transaction, then tells the source.
    func store(_ page: PulledPage, from source: any PullSource) throws -> BatchOutcome {
        let (declaration, plan) = try hub.hub.ingest.adapter(adapterID)
        let reader = try SourceReaders.reader(source: ByteSource(bytes: page.body, name: page.name), options: plan.source.readOptions)
        let outcome = try hub.hub.ingest.store.ingest(reader.readAll(), adapter: IngestSource(declaration), plan: plan, checkpoint: page.checkpoint)
        try source.didStore(page)
        return outcome
    }

    /// Runs `source` from the stored checkpoint until it returns nil or `maxPages` pages were
    /// stored. Returns the pages stored.
    @discardableResult
    func run(_ source: any PullSource, maxPages: Int = 10_000) throws -> [PulledPage] {
        var pages: [PulledPage] = []
        while pages.count < maxPages, let page = try source.nextPage(after: checkpoint()) {
            _ = try store(page, from: source)
            pages.append(page)
        }
        return pages
    }

    /// What the store holds for the adapter: distinct source keys landed, landing rows,
    /// entities, change events and entity versions (all adapters of this database).
    struct Totals: Equatable, CustomStringConvertible {
        var keys: Int, landed: Int, entities: Int, events: Int, versions: Int
        var description: String { "keys \(keys), landed \(landed), entities \(entities), events \(events), versions \(versions)" }
    }

    func totals() throws -> Totals {
        let c = try PostgresConnection(url: hub.hub.databaseURL)
        func count(_ sql: String) throws -> Int { Int(try c.query(sql).first?[0] ?? "0") ?? 0 }
        return Totals(keys: try count("SELECT count(DISTINCT source_key) FROM landing"),
                      landed: try count("SELECT count(*) FROM landing"),
                      entities: try count("SELECT count(*) FROM entities"),
                      events: try count("SELECT count(*) FROM change_log"),
                      versions: try count("SELECT count(*) FROM entity_versions"))
    }

    /// The change log's (resource, entity, version, changed fields) in a stable order, to compare runs.
    func changeLog() throws -> [String] {
        let c = try PostgresConnection(url: hub.hub.databaseURL)
        return try c.query("""
            SELECT e.resource || ' ' || e.identity_key || ' v' || l.version || ' ' || array_to_string(l.changed_fields, ',')
            FROM change_log l JOIN entities e ON e.id::text = l.entity_id
            ORDER BY 1
            """).rows.map { $0[0] ?? "" }
    }
}

/// Settings for a pull kind, written as JSON5 the way a declaration's `pull` object is.
func pullSettings(_ text: String) throws -> JSONNode {
    try JSON5.parseDocument(text, file: "test.json5")
}

/// A context whose secrets come from a dictionary (the test's own, never the environment).
func pullContext(_ id: String, secrets: [String: String] = [:], base: String = "/tmp") -> PullContext {
    PullContext(adapterID: id, baseDirectory: base) { reference in
        switch reference {
        case .environment(let name), .file(let name):
            guard let value = secrets[name] else { throw MissingTestSecret(description: "\(reference) is not set") }
            return value
        case .sha256: throw MissingTestSecret(description: "a hash cannot be sent")
        }
    }
}

/// The failure `body` throws, or a test failure when it throws none.
func pullFailure(_ body: () throws(PullFailure) -> PulledPage?, sourceLocation: SourceLocation = #_sourceLocation) -> PullFailure? {
    do {
        _ = try body()
        Issue.record("expected a pull failure", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Small demo systems for one test: no background changes, a private drop folder.
func demoSystems(residents: Int = 300, token: String? = "police-test-token") throws -> (DemoDepartmentSystems, String) {
    let folder = try temporaryFolder("ro-demo")
    var configuration = DemoDepartmentConfiguration(dropFolder: folder + "/drop")
    configuration.residents = residents
    configuration.seed = 7
    configuration.policeToken = token
    configuration.changesPerMinute = 0
    configuration.dropInterval = 3600
    let systems = DemoDepartmentSystems(configuration)
    try systems.start()
    return (systems, folder)
}

struct MissingTestSecret: Error, CustomStringConvertible { var description: String }
