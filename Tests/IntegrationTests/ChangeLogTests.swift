import Foundation
import Testing
@testable import Store

@Suite struct ChangeLogTests {
    static func event(_ entity: String, _ version: Int, fields: [String] = ["name"]) -> NewChangeEvent {
        NewChangeEvent(resource: "person", entityID: entity, version: version, operation: version == 1 ? .created : .updated,
                       changedFields: fields, record: #"{"v":\#(version)}"#, sources: #"[{"adapter":"police"}]"#)
    }

    @Test func appendsAndReadsInOrderWithPositions() throws {
        let c = try PostgresConnection(url: try TestDatabase.migrated(Schema.migrations))
        #expect(try ChangeLog.head(c) == 0)
        let small = try c.transaction { try ChangeLog.append([Self.event("a", 1), Self.event("b", 1, fields: ["name", "sex,odd"])], in: $0) }
        #expect(small == 2)
        // Large batches go through COPY.
        let large = try c.transaction { c in try ChangeLog.append((1...500).map { Self.event("c\($0)", 1) }, in: c) }
        #expect(large == 502)
        let events = try ChangeLog.read(after: 0, limit: 10, from: c)
        #expect(events.map(\.position) == Array(1...10))
        #expect(events[1].changedFields == ["name", "sex,odd"])
        #expect(events[0].operation == "created")
        #expect(try ChangeLog.read(after: 500, limit: 10, from: c).map(\.position) == [501, 502])
        #expect(try ChangeLog.read(after: 502, limit: 10, from: c).isEmpty)
    }

    @Test func aRolledBackWriterLeavesNoGap() throws {
        let c = try PostgresConnection(url: try TestDatabase.migrated(Schema.migrations))
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try c.transaction { c in
                try ChangeLog.append([Self.event("a", 1)], in: c)
                throw Abort()
            }
        }
        try c.transaction { try ChangeLog.append([Self.event("b", 1)], in: $0) }
        #expect(try ChangeLog.read(after: 0, limit: 10, from: c).map(\.position) == [1])
    }

    /// Property: with many writers committing concurrently (each holding its entity's row lock,
    /// as the store does) and a reader paging "after P" meanwhile, the reader sees every event
    /// exactly once, positions without a gap, and each entity's versions in order.
    @Test(arguments: [1, 2, 3])
    func concurrentWritersAndAReaderSeeEveryEventOnceInOrder(seed: Int) throws {
        let url = try TestDatabase.migrated(Schema.migrations)
        let setup = try PostgresConnection(url: url)
        try setup.executeScript("CREATE TABLE entity (id text PRIMARY KEY, version int NOT NULL DEFAULT 0)")
        let entities = (0..<12).map { "e\($0)" }
        try setup.execute("INSERT INTO entity (id) SELECT unnest($1::text[])", [entities])

        let writers = 6, transactionsPerWriter = 30
        let expected = Mutexed(0)
        let done = Mutexed(false)
        let seen = Mutexed<[ChangeEvent]>([])

        let reader = Thread {
            guard let c = try? PostgresConnection(url: url) else { return }
            var after: Int64 = 0
            while true {
                let finished = done.withLock { $0 }
                guard let page = try? ChangeLog.read(after: after, limit: 37, from: c) else { return }
                seen.withLock { $0 += page }
                if let last = page.last { after = last.position }
                if page.isEmpty { if finished { return } else { usleep(500) } }
            }
        }
        reader.start()

        DispatchQueue.concurrentPerform(iterations: writers) { w in
            var rng = SplitMix(seed: UInt64(seed * 1000 + w))
            guard let c = try? PostgresConnection(url: url) else { return }
            for _ in 0..<transactionsPerWriter {
                let touched = Array(Set((0..<Int(rng.next() % 4 + 1)).map { _ in entities[Int(rng.next() % UInt64(entities.count))] })).sorted()
                let written = try? c.transaction { c -> Int in
                    var events: [NewChangeEvent] = []
                    for id in touched {
                        let v = try c.query("UPDATE entity SET version = version + 1 WHERE id = $1 RETURNING version", [id])[0]
                        events.append(Self.event(id, try v.decode(Int.self, "version")))
                    }
                    if rng.next() % 3 == 0 { usleep(UInt32(rng.next() % 2000)) }
                    try ChangeLog.append(events, in: c)
                    return events.count
                }
                expected.withLock { $0 += written ?? 0 }
            }
        }
        done.withLock { $0 = true }
        while !reader.isFinished { usleep(1000) }

        let events = seen.withLock { $0 }
        let total = expected.withLock { $0 }
        #expect(total > writers * transactionsPerWriter)
        #expect(events.count == total)
        #expect(events.map(\.position) == Array(1...Int64(total)))
        var lastVersion: [String: Int] = [:]
        for e in events {
            #expect(e.version == lastVersion[e.entityID, default: 0] + 1, "entity \(e.entityID) out of order")
            lastVersion[e.entityID] = e.version
        }
    }
}
