import Foundation

/// Two threads for a bulk import: a reader thread makes batch N+1 (read, hash, map: everything
/// that needs no transaction) while the calling thread writes batch N. At most `depth` batches
/// are in flight (made and not yet written back), so memory is bounded by a fixed number of
/// batches, not by the file.
///
/// Every batch is freed on the thread that made it: the writer hands a written batch back and
/// the reader drops it before it makes the next one. An earlier pipeline freed batches on the
/// writing thread; glibc's allocator then kept the reader's arena growing (about 85 bytes per
/// record, never returned), so memory grew with the file. Freeing where the memory was
/// allocated keeps the resident size flat (docs/benchmarks.md "Bulk load").
final class BatchPipeline<Batch>: @unchecked Sendable {
    private let depth: Int
    private let condition = NSCondition()
    private var ready: [Batch] = []
    /// Written batches on their way back to the reader thread, which frees them.
    private var written: [Batch] = []
    private var inFlight = 0
    private var finished = false
    private var stopped = false
    private var readerDone = false
    private var failure: (any Error)?

    init(depth: Int = 2) {
        self.depth = max(1, depth)
    }

    /// Runs `make` on a new thread until it returns nil, and `write` on the calling thread for
    /// each batch in order. The first error of either side stops both and is rethrown here,
    /// after the reader thread has ended.
    func run(make: @escaping @Sendable () throws -> Batch?, write: (inout Batch) throws -> Void) throws {
        let thread = Thread { [self] in readerLoop(make) }
        thread.stackSize = 8 << 20
        thread.start()
        do {
            while var batch = try next() {
                try write(&batch)
                // Moved, not copied: the reader thread must hold the last reference.
                handBack(consume batch)
            }
        } catch {
            stop()
            waitForReader()
            throw error
        }
        waitForReader()
        if let failure { throw failure }
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
                ready.append(batch)
                inFlight += 1
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = error
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

    /// The next made batch, or nil when the reader has finished (or failed) and all are taken.
    private func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty { return ready.removeFirst() }
        return nil
    }

    private func handBack(_ batch: Batch) {
        condition.lock()
        written.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    private func stop() {
        condition.lock()
        stopped = true
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
