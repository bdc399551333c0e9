@testable import Feed
import Foundation
@testable import Store
import Testing

/// A large chunk is projected on several cores; the result must be the one-thread result, in log order.
@Suite struct ParallelProjectionTests {
    let spec = SubscriptionSpec(name: "community", purpose: "community services", resources: ["Person"], area: ["510108001"])

    /// Every third person lives outside the area (no event), every fifth event is of another resource.
    func chunk(_ count: Int) -> [ChangeEvent] {
        (0..<count).map { i in
            let record = i % 3 == 0 ? personRecord.replacingOccurrences(of: "510108001001", with: "510108009001")
                .replacingOccurrences(of: "510108002003", with: "510108009002") : personRecord
            return ChangeEvent(position: Int64(i + 1), resource: i % 5 == 0 ? "Household" : "Person", entityID: "e\(i)", version: 1,
                               operation: "created", changedFields: ["name", "community_code"], recordBytes: Array(record.utf8),
                               sourcesBytes: Array("[]".utf8), time: Date(timeIntervalSince1970: 1_790_000_000 + Double(i / 7)))
        }
    }

    @Test(arguments: [1, FeedReader.parallelProjectionMinimum - 1, FeedReader.parallelProjectionMinimum, 1000, 10_001])
    func sameAsOneThread(count: Int) throws {
        let p = try projector(spec)
        let raw = chunk(count)
        let serial = try ParsedChange.parse(raw).map { try p.project($0) }
        let parallel = try FeedReader.project(raw, p)
        #expect(parallel.count == raw.count)
        #expect(parallel.map { $0?.position } == serial.map { $0?.position })
        #expect(parallel.map { $0?.bytes } == serial.map { $0?.bytes })
        #expect(parallel.compactMap { $0 }.count == (1...count).filter { i in (i - 1) % 3 != 0 && (i - 1) % 5 != 0 }.count)
    }

    /// A memo carried through a run gives each event the answer it gets alone: changed-fields
    /// arrays shared by a run, then a different array with the same fields, different fields,
    /// an event of a resource with other grants, and disclosed fields that change mid-run.
    @Test func aMemoCarriedThroughARunChangesNoEvent() throws {
        let spec = SubscriptionSpec(name: "community", purpose: "community services", resources: ["Person", "Household"],
                                    fields: ["Person": ["name", "community_code", "citizen_id", "mobile"]])
        let p = try projector(spec)
        let shared = ["name", "community_code"]
        let fieldSets: [[String]] = [shared, shared, ["name", "community_code"], ["mobile"], ["date_of_birth"], shared, [], shared]
        let raw = (0..<64).map { i in
            let record = i % 4 == 3 ? #"{"name":"王五","community_code":"510108001001"}"# : personRecord
            return ChangeEvent(position: Int64(i + 1), resource: i % 6 == 5 ? "Household" : "Person", entityID: "e\(i)", version: 2,
                               operation: "updated", changedFields: fieldSets[i % fieldSets.count], recordBytes: Array(record.utf8),
                               sourcesBytes: Array("[]".utf8), time: Date(timeIntervalSince1970: 1_790_000_000))
        }
        var memo = ProjectionMemo()
        for change in ParsedChange.parse(raw) {
            let alone = try p.project(change)
            let run = try p.project(change, memo: &memo)
            #expect(run?.bytes == alone?.bytes, "event \(change.position)")
            #expect(run?.disclosedFields == alone?.disclosedFields, "event \(change.position)")
        }
    }
}
