import Foundation

/// A producer thread and the caller's thread, joined by a queue of at most `capacity` items.
///
/// A file import reads and prepares batch N+1 (parse, hash, map: pure work) on the producer
/// thread while the caller writes batch N to PostgreSQL, so both cores work. The bound keeps
/// memory flat: the producer waits when the writer falls behind.
final class BatchPipeline<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int
    private let producerDone = DispatchSemaphore(value: 0)

    /// Starts `produce` on its own thread. It calls `emit` for each item; `emit` returns false
    /// once the consumer has given up, and `produce` should then return.
    init(capacity: Int = 1, produce: @escaping @Sendable (_ emit: (Item) -> Bool) -> Void) {
        self.capacity = capacity
        let thread = Thread { [self] in
            produce { item in self.put(item) }
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
            producerDone.signal()
        }
        thread.name = "import-reader"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        queue.append(item)
        condition.broadcast()
        return true
    }

    /// The next item, waiting for the producer; nil when it has finished and the queue is empty.
    func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        guard !queue.isEmpty else { return nil }
        let item = queue.removeFirst()
        condition.broadcast()
        return item
    }

    /// Stops the producer (after its current item) and waits for its thread to end.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
        producerDone.wait()
    }

    /// Waits for the producer's thread to end (after `next()` returned nil).
    func waitForProducer() { producerDone.wait() }
}

/// Hands a non-Sendable value to exactly one other thread, which then owns it.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
}
