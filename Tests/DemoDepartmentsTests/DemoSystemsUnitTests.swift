import Testing
@testable import DemoDepartments

/// The demo systems' building blocks that need no network: change stamps and the change-ordered table.
@Suite struct DemoSystemsUnitTests {
    @Test func stampsRoundTripThroughTheirTextForms() {
        let ms: Int64 = 1_795_000_000_123
        #expect(StampText.milliseconds(ChangeClock.iso(ms)) == ms)
        #expect(StampText.milliseconds(ChangeClock.spaced(ms)) == ms)
        #expect(ChangeClock.iso(ChangeClock.origin) == "2025-12-31T00:00:00.000+08:00")
        #expect(StampText.milliseconds("2025-12-30T16:00:00Z") == ChangeClock.origin)
        #expect(StampText.milliseconds("2025-12-31T00:00:00.5+08:00") == ChangeClock.origin + 500)
        #expect(StampText.milliseconds("12345") == 12345)
        #expect(StampText.milliseconds("yesterday") == nil)
        #expect(StampText.milliseconds("2025-12-31T00:00:00+0800") == nil, "a zone without a colon is not read")
    }

    @Test func aChangedRecordMovesToTheEndWithANewerStamp() throws {
        let table = ChangeStampedTable()
        for i in 0..<10 {
            table.load(key: "k\(i)", record: DepartmentRecord(department: .policeHukou, fields: [SourceField("N", "\(i)")], personIndex: i))
        }
        let first = table.page(limit: 3).entries
        #expect(first.map(\.key) == ["k0", "k1", "k2"])
        let changed = try #require(table.update("k1") { $0.set("N", "changed") })
        #expect(changed.stamp > table.page(limit: 10).entries.dropLast().map(\.stamp).max()!)
        #expect(table.keys.last == "k1")
        #expect(table.record("k1")?["N"] == "changed")
        #expect(table.update("missing") { _ in } == nil)
        let after = table.page(after: first[2].stamp, limit: 100)
        #expect(after.entries.map(\.key) == ["k3", "k4", "k5", "k6", "k7", "k8", "k9", "k1"])
        #expect(after.total == 8)
        #expect(table.page(sinceAtLeast: changed.stamp, limit: 5).entries.map(\.key) == ["k1"])
        #expect(table.page(offset: 8, limit: 5).entries.count == 2)
    }

    @Test func faultsAreTakenInOrderAndOnlyWhereAccepted() {
        let faults = DemoFaults()
        faults.inject(.changeUnderCursor(2))
        faults.inject(.unavailable(retryAfter: 1), times: 2)
        #expect(faults.take { if case .changeUnderCursor = $0 { false } else { true } } == .unavailable(retryAfter: 1))
        #expect(faults.pending == 2)
        #expect(faults.take() == .changeUnderCursor(2))
        faults.clear()
        #expect(faults.take() == nil)
    }
}
