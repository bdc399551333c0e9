import Foundation
import Testing
@testable import Adapters

/// A run stops on its own once its lease may have run out without a confirmed renewal, so a
/// starved process never pulls beside the one that took the adapter over.
@Suite struct RunHandleTests {
    @Test func aRunStopsWhenItsLeaseRunsOutUnrenewed() {
        let handle = RunHandle(revision: 1, leaseUntil: Date().addingTimeInterval(0.2))
        #expect(!handle.isCancelled)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(handle.isCancelled)
    }

    @Test func aRenewalKeepsItGoingAndNeverShortensTheLease() {
        let handle = RunHandle(revision: 1, leaseUntil: Date().addingTimeInterval(0.2))
        handle.extendLease(until: Date().addingTimeInterval(5))
        handle.extendLease(until: Date().addingTimeInterval(0.1))   // an older renewal's answer
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!handle.isCancelled)
        handle.cancel()
        #expect(handle.isCancelled)
    }
}
