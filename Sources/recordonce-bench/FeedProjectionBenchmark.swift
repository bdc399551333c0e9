import Catalog
import Feed
import Foundation
import Store

/// Projection on one core, without a hub or a database: the per-event work of catching up
/// (index the record's JSON, then write the CloudEvent a subscriber may see), so that a change
/// to the projector can be timed in seconds instead of through a whole catch-up run.
enum FeedProjectionBenchmark {
    static let usage = """
          projection [--events N] [--rounds R] [--catalog DIR]
              Index N Person change events (the catch-up benchmark's records) and project them for
              the catch-up benchmark's subscription (Person and Household of 510108, default
              masking), on one thread, R rounds; prints the median microseconds per event of each
              step. Defaults: --events 100000 --rounds 5 --catalog mappings/catalog.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let total = try FeedBenchmark.count(args, "events", default: 100_000)
        let rounds = try FeedBenchmark.count(args, "rounds", default: 5)
        let catalogDirectory = MappingBenchmark.option(args, "catalog") ?? "mappings/catalog"
        let catalog = try Catalog.load(directory: catalogDirectory)
        let spec = SubscriptionSpec(name: "catchup", purpose: "feed benchmark", resources: ["Person", "Household"], area: ["510108"])
        let subscription = Subscription(id: "sub_bench", spec: spec, status: .active, pseudonymKey: Array(repeating: 7, count: 32),
                                        createdAt: Date(), updatedAt: Date())
        let projector = EventProjector(scope: SubscriptionScope(subscription, catalog: catalog)) { _, _, _ in nil }
        let time = Date(timeIntervalSince1970: 1_790_000_000)
        let fields = ["citizen_id", "name", "sex", "mobile", "community_code"]
        // As the change log reader gives them: events of one writer's batch share their time and
        // changed-fields array.
        let events = (0..<total).map { i in
            ChangeEvent(position: Int64(i + 1), resource: "Person", entityID: "00000000-0000-4000-8000-\(String(format: "%012d", i))",
                        version: 1, operation: "created", changedFields: fields, recordBytes: Array(FeedCatchupBenchmark.person(i).utf8),
                        sourcesBytes: Array("[]".utf8), time: time)
        }

        var indexing: [Double] = [], projecting: [Double] = [], freeing: [Double] = []
        var bytes = 0
        for _ in 0..<rounds {
            // As a page does: index the chunk, project it into a page, then let both go.
            var changes: [ParsedChange] = []
            var page: [ProjectedEvent] = []
            page.reserveCapacity(total)
            indexing.append(try FeedCatchupBenchmark.measure { changes = ParsedChange.parse(events) })
            bytes = 0
            projecting.append(try FeedCatchupBenchmark.measure {
                var memo = ProjectionMemo()
                for change in changes {
                    if let event = try projector.project(change, memo: &memo) {
                        bytes += event.bytes.count
                        page.append(event)
                    }
                }
            })
            freeing.append(try FeedCatchupBenchmark.measure {
                changes = []
                page = []
            })
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let perEvent = { (seconds: Double) in String(format: "%.2f", seconds * 1e6 / Double(total)) }
        print("| Step (one thread, \(total) events, median of \(rounds)) | µs/event |")
        print("| --- | ---: |")
        print("| index the record (`ParsedChange`: RecordText over the JSON, event fields) | \(perEvent(median(indexing))) |")
        print("| project (`EventProjector`: filters, masking, CloudEvent bytes) | \(perEvent(median(projecting))) |")
        print("| free the indexed chunk and the projected page | \(perEvent(median(freeing))) |")
        print("| **total** (median of the rounds' sums) | \(perEvent(median(zip(zip(indexing, projecting), freeing).map { $0.0 + $0.1 + $1 }))) |")
        print("")
        print("\(bytes / total) bytes per projected event.")
        return 0
    }
}
