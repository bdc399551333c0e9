import Foundation
import Testing
@testable import Adapters

/// Backoff and the pull runner, without a database.
@Suite struct SchedulingTests {
    @Test func backoffDoublesUpToItsCapWithJitterAndHonoursRetryAfter() {
        let backoff = Backoff(base: 2, maximum: 60)
        #expect(backoff.delay(failures: 1, random: 1) == 2)
        #expect(backoff.delay(failures: 2, random: 1) == 4)
        #expect(backoff.delay(failures: 5, random: 1) == 32)
        #expect(backoff.delay(failures: 6, random: 1) == 60)
        #expect(backoff.delay(failures: 1000, random: 1) == 60)
        #expect(backoff.delay(failures: 3, random: 0) == 4)      // jitter keeps at least half
        #expect(backoff.delay(failures: 0, random: 1) == 2)
        let spread = Set((0..<50).map { _ in backoff.delay(failures: 4) })
        #expect(spread.count > 10)
        #expect(spread.allSatisfy { (8...16).contains($0) })
        #expect(backoff.delay(failures: 1, retryAfter: 30, random: 1) == 30)
        #expect(backoff.delay(failures: 1, retryAfter: 3600, random: 1) == 60)
        #expect(backoff.delay(failures: 3, retryAfter: 1, random: 1) == 8)
    }

    /// Pages "a", "b", "c"; the checkpoint after page i is its index + 1.
    final class ListSource: PullSource, @unchecked Sendable {
        let pages: [String]
        var failAt: Int?
        var failure = PullFailure(.retriable, "HTTP 503")
        var asked: [String?] = []
        var stored: [String] = []
        init(_ pages: [String]) { self.pages = pages }
        func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? {
            asked.append(checkpoint)
            let index = Int(checkpoint ?? "0")!
            if index == failAt { throw failure }
            guard index < pages.count else { return nil }
            return PulledPage(body: Array(pages[index].utf8), name: "page \(index + 1)", checkpoint: String(index + 1))
        }
        func didStore(_ page: PulledPage) throws(PullFailure) { stored.append(page.checkpoint!) }
    }

    /// Counts each page's bytes as records; a page "bad..." has every record rejected; "down" fails.
    struct CountingSink: PulledPageSink {
        let log = LockedLog()
        func store(_ page: PulledPage, adapterID: String) throws(PullFailure) -> PageCounts {
            let text = String(decoding: page.body, as: UTF8.self)
            if text == "down" { throw PullFailure(.retriable, "database unavailable") }
            log.append("\(adapterID):\(page.checkpoint ?? "-")")
            return text.hasPrefix("bad") ? PageCounts(records: text.count, rejected: text.count)
                                         : PageCounts(records: text.count, accepted: text.count)
        }
    }

    final class LockedLog: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String] = []
        func append(_ v: String) { lock.withLock { values.append(v) } }
        var items: [String] { lock.withLock { values } }
    }

    @Test func aRunStoresEveryPageWithItsCheckpointThenStops() {
        let source = ListSource(["aa", "bbb", "c"])
        let sink = CountingSink()
        let result = PullRunner().run(source: source, adapterID: "x", checkpoint: nil, sink: sink)
        #expect(result.caughtUp)
        #expect(result.failure == nil)
        #expect(result.pages == 3)
        #expect(result.counts == PageCounts(records: 6, accepted: 6))
        #expect(source.asked == [nil, "1", "2", "3"])
        #expect(source.stored == ["1", "2", "3"])
        #expect(sink.log.items == ["x:1", "x:2", "x:3"])
        // Resuming from a checkpoint asks only for what follows.
        let resumed = ListSource(["aa", "bbb", "c"])
        _ = PullRunner().run(source: resumed, adapterID: "x", checkpoint: "2", sink: sink)
        #expect(resumed.asked == ["2", "3"])
    }

    @Test func failuresEndTheRunWhereTheyHappen() {
        let source = ListSource(["aa", "bb", "cc"])
        source.failAt = 1
        let result = PullRunner().run(source: source, adapterID: "x", checkpoint: nil, sink: CountingSink())
        #expect(result.pages == 1)
        #expect(result.failure?.kind == .retriable)
        #expect(!result.caughtUp)

        // A sink failure: the page is not acknowledged to the source.
        let down = ListSource(["aa", "down", "cc"])
        let stopped = PullRunner().run(source: down, adapterID: "x", checkpoint: nil, sink: CountingSink())
        #expect(stopped.failure?.message == "database unavailable")
        #expect(down.stored == ["1"])
    }

    @Test func aPageOfNothingButRejectsIsAMappingFailureUnlessItIsASingleRecord() {
        let source = ListSource(["aa", "bad", "cc"])
        let result = PullRunner().run(source: source, adapterID: "x", checkpoint: nil, sink: CountingSink())
        #expect(result.failure?.kind == .permanent)
        #expect(result.failure?.message.contains("every record (3) of page 2") == true)
        #expect(source.stored == ["1", "2"])     // stored (rejects kept for a retry), then stopped
        let single = ListSource(["aa", "b", "cc"])
        let sink = SingleRejectSink()
        let ok = PullRunner().run(source: single, adapterID: "x", checkpoint: nil, sink: sink)
        #expect(ok.failure == nil)
        #expect(ok.counts.rejected == 1)
    }

    struct SingleRejectSink: PulledPageSink {
        func store(_ page: PulledPage, adapterID: String) throws(PullFailure) -> PageCounts {
            page.body.count == 1 ? PageCounts(records: 1, rejected: 1) : PageCounts(records: page.body.count, accepted: page.body.count)
        }
    }

    @Test func aRunYieldsAfterItsPageLimitOrWhenAskedToStop() {
        let source = ListSource(Array(repeating: "aa", count: 10))
        let limited = PullRunner(maxPages: 4).run(source: source, adapterID: "x", checkpoint: nil, sink: CountingSink())
        #expect(limited.pages == 4)
        #expect(!limited.caughtUp)
        #expect(limited.failure == nil)
        var asked = 0
        let stopped = PullRunner().run(source: ListSource(Array(repeating: "aa", count: 10)), adapterID: "x", checkpoint: nil,
                                       sink: CountingSink(), shouldContinue: { asked += 1; return asked <= 2 })
        #expect(stopped.pages == 2)
        #expect(stopped.interrupted)
    }

    @Test func aRepeatedDatabaseWarningIsLoggedOnceAMinute() {
        var throttle = ThrottledWarning()
        let start = Date()
        var logged: [Bool] = []
        for (message, seconds) in [("down", 0.0), ("down", 10), ("refused", 11), ("refused", 70), ("refused", 72)] {
            logged.append(throttle.shouldLog(message, now: start.addingTimeInterval(seconds)))
        }
        #expect(logged == [true, false, true, false, true])
    }
}
