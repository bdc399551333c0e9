import Foundation

/// The threads of a bulk import: a reader thread makes batch N+1 (read, hash, map: everything
/// that needs no transaction) while writer threads write the batches before it. At most `depth`
/// batches are in flight (made and not yet written back), so memory is bounded by a fixed number
/// of batches, not by the file.
///
/// With more than one writer, two batches can be in their transactions at once; each gets a
/// `BatchTurn` that says when the batch before it has finished, and the writer decides what
/// must wait for that (see `IngestService.importFile`). A batch counts as finished only after
/// the one before it, so batches finish (and commit) in the order they were made.
///
/// Every batch is freed on the thread that made it: a writer hands a written batch back and the
/// reader drops it before it makes the next one. An earlier pipeline freed batches on the
/// writing thread; glibc's allocator then kept the reader's arena growing (about 85 bytes per
/// record, never returned), so memory grew with the file. Freeing where the memory was
/// allocated keeps the resident size flat (docs/benchmarks.md "Bulk load").
final class BatchPipeline<Batch>: @unchecked Sendable {
    private let depth: Int
    private let writers: Int
    private let condition = NSCondition()
    private var ready: [(number: Int, batch: Batch)] = []
    /// Written batches on their way back to the reader thread, which frees them.
    private var written: [Batch] = []
    private var inFlight = 0
    private var made = 0
    /// How many batches have finished, in order (batch n finished: `finishedCount > n`).
    private var finishedCount = 0
    private var finished = false
    private var stopped = false
    private var readerDone = false
    private var failure: (any Error)?

    /// `writers` threads write batches; `depth` (at least `writers`) are in flight at most.
    init(depth: Int = 2, writers: Int = 1) {
        self.writers = max(1, writers)
        self.depth = max(self.writers, depth)
    }

    /// Runs `make` on a new thread until it returns nil, and `write` on the writer threads, one
    /// batch at a time per thread, handed out in order. The first error of any side stops all and
    /// is rethrown here, after every thread has ended.
    func run(make: @escaping @Sendable () throws -> Batch?, write: @escaping @Sendable (inout Batch, BatchTurn) throws -> Void) throws {
        let reader = Thread { [self] in readerLoop(make) }
        reader.stackSize = 8 << 20
        reader.start()
        let group = DispatchGroup()
        for _ in 1..<writers {
            group.enter()
            let thread = Thread { [self] in
                writerLoop(write)
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        writerLoop(write)
        group.wait()
        waitForReader()
        if let failure { throw failure }
    }

    private func writerLoop(_ write: (inout Batch, BatchTurn) throws -> Void) {
        while let (number, taken) = next() {
            var batch = taken
            let turn = BatchTurn(number: number, pipeline: self)
            do {
                try write(&batch, turn)
                // In order: a batch written fast waits for the one before it to finish.
                try turn.awaitPrevious()
                finish(number)
            } catch {
                fail(error)
            }
            // Moved, not copied: the reader thread must hold the last reference.
            handBack(consume batch)
        }
    }

    private func readerLoop(_ make: () throws -> Batch?) {
        while true {
            condition.lock()
            while inFlight >= depth && !stopped && written.isEmpty { condition.wait() }
            // Take the written batches out under the lock and let them go outside it, here.
            var freed = written
            written.removeAll()
            inFlight -= freed.count
            let stop = stopped
            let room = inFlight < depth
            condition.unlock()
            freed.removeAll()
            if stop { break }
            guard room else { continue }
            do {
                guard let batch = try make() else { break }
                condition.lock()
                ready.append((made, batch))
                made += 1
                inFlight += 1
                condition.broadcast()
                condition.unlock()
            } catch {
                // The batches already made are still written; run() then throws this.
                condition.lock()
                if failure == nil { failure = error }
                condition.unlock()
                break
            }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        // Batches still coming back after the end are freed by waitForReader, on its thread:
        // there are at most `depth` of them, once.
        condition.unlock()
        markReaderDone()
    }

    /// The next made batch, or nil when the reader has finished (or anything failed) and all are taken.
    private func next() -> (Int, Batch)? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished && !stopped { condition.wait() }
        if stopped || ready.isEmpty { return nil }
        return ready.removeFirst()
    }

    /// Waits until batch `number - 1` has finished; throws if anything failed meanwhile, or after
    /// `timeout` seconds (`BatchTurn.TimedOut`) when one is given.
    fileprivate func awaitFinished(before number: Int, timeout: Double?) throws {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        condition.lock()
        defer { condition.unlock() }
        while finishedCount < number && !stopped {
            if let deadline {
                if !condition.wait(until: deadline) && finishedCount < number && !stopped { throw BatchTurn.TimedOut() }
            } else {
                condition.wait()
            }
        }
        if stopped { throw BatchTurn.Stopped() }
    }

    private func finish(_ number: Int) {
        condition.lock()
        finishedCount = number + 1
        condition.broadcast()
        condition.unlock()
    }

    /// Records the first failure and stops every thread.
    private func fail(_ error: any Error) {
        condition.lock()
        if failure == nil && !(error is BatchTurn.Stopped) { failure = error }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func handBack(_ batch: Batch) {
        condition.lock()
        written.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    private func markReaderDone() {
        condition.lock()
        readerDone = true
        condition.broadcast()
        condition.unlock()
    }

    private func waitForReader() {
        condition.lock()
        while !readerDone { condition.wait() }
        ready.removeAll()
        written.removeAll()
        condition.unlock()
    }
}

/// One batch's place in a pipeline's order: lets its writer wait for the batch before it.
final class BatchTurn: @unchecked Sendable {
    /// The batch before this one has not finished within the time given.
    struct TimedOut: Error {}
    /// Another batch failed: this one must not commit.
    struct Stopped: Error, CustomStringConvertible {
        var description: String { "stopped because another batch failed" }
    }

    let number: Int
    private let wait: (Int, Double?) throws -> Void

    fileprivate init<Batch>(number: Int, pipeline: BatchPipeline<Batch>) {
        self.number = number
        wait = { [unowned pipeline] number, timeout in try pipeline.awaitFinished(before: number, timeout: timeout) }
    }

    /// Returns once every batch before this one has finished (committed and counted).
    func awaitPrevious() throws { try wait(number, nil) }

    /// The same, giving up after `timeout` seconds with `TimedOut`.
    func awaitPrevious(timeout: Double) throws { try wait(number, timeout) }
}
