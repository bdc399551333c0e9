import Foundation
@testable import Hub
import Testing

extension Locked<Int> {
    /// The next batch number below `limit` (0, 1, 2, ...), or nil once `limit` were made.
    func next(upTo limit: Int) -> Int? {
        withValue { n in
            guard n < limit else { return nil }
            n += 1
            return n - 1
        }
    }
}

/// The import's thread pipeline on its own (no database): batches are handed out in order,
/// finish in order however fast each is written, and one failure stops the rest.
@Suite struct BatchPipelineTests {
    /// What the writers saw, in the order it happened.
    final class Journal: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test func batchesFinishInOrderWhenALaterOneIsWrittenFaster() throws {
        let made = Locked(0)
        let journal = Journal()
        let oneWritten = DispatchSemaphore(value: 0)
        let sawOne = Locked(false)
        try BatchPipeline<Int>(depth: 3, writers: 2).run(make: {
            made.next(upTo: 20)
        }) { batch, turn in
            #expect(turn.number == batch)
            // Batch 0 is written only once batch 1 has been, beside it; then each waits its turn.
            if batch == 0 { sawOne.withValue { $0 = oneWritten.wait(timeout: .now() + 10) == .success } }
            journal.add("written \(batch)")
            if batch == 1 { oneWritten.signal() }
            try turn.awaitPrevious()
            journal.add("turn \(batch)")
        }
        #expect(sawOne.current, "batch 1 was not written while batch 0 was")
        #expect(journal.all.filter { $0.hasPrefix("turn") } == (0..<20).map { "turn \($0)" })
        #expect(journal.all.prefix(2) == ["written 1", "written 0"])
    }

    @Test func aFailedBatchStopsTheOnesAfterItAndItsErrorIsRethrown() {
        struct Broken: Error, Equatable {}
        let made = Locked(0)
        let finished = Journal()
        #expect(throws: Broken.self) {
            try BatchPipeline<Int>(depth: 3, writers: 2).run(make: {
                made.next(upTo: 50)
            }) { batch, turn in
                if batch == 5 {
                    Thread.sleep(forTimeInterval: 0.05)
                    throw Broken()
                }
                try turn.awaitPrevious()
                finished.add("\(batch)")
            }
        }
        // Batch 6 may have been written beside 5, but it never got its turn.
        #expect(finished.all == (0..<5).map { "\($0)" })
        #expect(made.current < 50, "the reader kept making batches after the failure")
    }

    @Test func aWaitForTheBatchBeforeCanGiveUp() throws {
        let made = Locked(0)
        let timedOut = Journal()
        try BatchPipeline<Int>(depth: 2, writers: 2).run(make: {
            made.next(upTo: 2)
        }) { batch, turn in
            if batch == 0 {
                Thread.sleep(forTimeInterval: 0.5)
                return
            }
            // Batch 1 gives up waiting for the slow batch 0, then waits without a limit.
            do {
                try turn.awaitPrevious(timeout: 0.05)
            } catch is BatchTurn.TimedOut {
                timedOut.add("\(batch)")
                try turn.awaitPrevious()
            }
        }
        #expect(timedOut.all == ["1"])
    }

    @Test func aReadErrorComesAfterTheBatchesMadeBeforeIt() {
        struct Unreadable: Error {}
        let made = Locked(0)
        let written = Journal()
        #expect(throws: Unreadable.self) {
            try BatchPipeline<Int>(depth: 3, writers: 2).run(make: {
                guard let n = made.next(upTo: 4) else { throw Unreadable() }
                return n
            }) { batch, turn in
                try turn.awaitPrevious()
                written.add("\(batch)")
            }
        }
        #expect(written.all == ["0", "1", "2", "3"])
    }
}
