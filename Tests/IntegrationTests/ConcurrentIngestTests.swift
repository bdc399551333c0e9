import Adapters
import Foundation
import RecordStore
import SourceFormats
import Store
import Testing

/// Writers that deliver the same new people at the same moment: new entities and landing rows
/// go in with COPY, and a writer that loses the race must fall back without an error, a second
/// entity or a second event.
@Suite struct ConcurrentIngestTests {
    static func batch(_ range: Range<Int>, round: Int) -> [SourceReadItem] {
        let rows = range.map { n in
            let id = String(format: "1101051949%02d%06d", round, n)
            return #"{"key":"K\#(round)-\#(n)","GMSFHM":"\#(id)","XM":"人\#(n)","XB":"\#(n % 2 + 1)"}"#
        }
        return StoreFixture.records("[" + rows.joined(separator: ",") + "]")
    }

    @Test func overlappingBatchesOfNewPeopleCreateEachOnceWithOneEvent() throws {
        let store = try StoreFixture.store()
        let adapter = StoreFixture.adapter(StoreFixture.police)
        let rounds = 4
        for round in 0..<rounds {
            // Four writers: two with people 0-199, two with 100-299 (300 distinct people).
            let slices = [0..<200, 100..<300, 0..<200, 100..<300].map { Self.batch($0, round: round) }
            let events = Locked(0), failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: slices.count) { i in
                do {
                    let outcome = try store.ingest(slices[i], adapter: adapter, plan: StoreFixture.police)
                    events.withValue { $0 += outcome.events }
                } catch {
                    failures.withValue { $0.append(String(describing: error)) }
                }
            }
            #expect(failures.current.isEmpty, "round \(round): \(failures.current)")
            #expect(events.current == 300, "round \(round): each new person is one event")
        }
        let counts = try store.pool.withConnection { c in
            try c.query("""
                SELECT (SELECT count(*) FROM entities) AS entities, (SELECT max(version) FROM entities) AS top,
                       (SELECT count(*) FROM landing) AS landing, (SELECT count(*) FROM change_log) AS events,
                       (SELECT count(DISTINCT entity_id) FROM change_log) AS distinct_entities
                """)[0]
        }
        #expect(counts["entities"] == String(300 * rounds))
        #expect(counts["top"] == "1")
        #expect(counts["landing"] == String(300 * rounds))
        #expect(counts["events"] == String(300 * rounds))
        #expect(counts["distinct_entities"] == String(300 * rounds))
    }
}

/// A value shared between test threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withValue { $0 } }
}
