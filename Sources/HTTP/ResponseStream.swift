import CMicroHTTPD
import Foundation

/// A response body written over time by a producer on any thread (Server-Sent Events, exports).
///
/// The server sends what was written as soon as the client can take it. When nothing is waiting,
/// the connection is suspended (it holds no thread and costs no polling) until the producer writes
/// or finishes. A stream serves one response.
///
/// While the connection is suspended the server cannot see the client go away; the next `write`
/// reveals it. Producers that can be idle for long should write a heartbeat now and then (an SSE
/// comment line) so that `onClose` fires for clients that left.
public final class ResponseStream: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var finished = false
    private var closed = false
    /// Set while the connection is attached; nil before and after.
    private var connection: OpaquePointer?
    private var suspended = false
    private var wasAttached = false
    private var closeHandlers: [@Sendable () -> Void] = []
    private var onDetach: (@Sendable () -> Void)?
    /// How often MHD asked for data (tests check that an idle stream is not polled).
    private(set) var readerCalls = 0

    public init() {}

    /// Queues `bytes` for the client. Returns false (and drops them) once the stream is closed
    /// or finished.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, !finished else { return false }
        pending.append(contentsOf: bytes)
        wakeReaderLocked()
        return true
    }

    /// Queues the UTF-8 bytes of `text`.
    @discardableResult
    public func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Ends the body once everything written so far is sent. Further writes are dropped.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        wakeReaderLocked()
    }

    /// True once the response is over: the client went away, the body was finished and sent, or
    /// the server stopped.
    public var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    var readerCallCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return readerCalls
    }

    /// Bytes written but not yet taken by the connection (a slow client makes this grow; a
    /// producer may give up on such a client by calling `finish()`).
    public var bufferedByteCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return pending.count - pendingStart
    }

    /// Calls `handler` once when the stream closes (on the server's thread), or right away if it
    /// already has.
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        lock.lock()
        if closed {
            lock.unlock()
            handler()
            return
        }
        closeHandlers.append(handler)
        lock.unlock()
    }

    // MARK: - Server side

    /// Binds the stream to `connection`. False if it already served a response. `finishNow`
    /// ends it at once (the server is stopping); `onDetach` runs when the connection lets go.
    func attach(to connection: OpaquePointer, finishNow: Bool,
                onDetach: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !wasAttached, !closed else { return false }
        wasAttached = true
        self.connection = connection
        self.onDetach = onDetach
        if finishNow { finished = true }
        return true
    }

    /// The content reader: copies waiting bytes into `buffer`, reports the end, or suspends the
    /// connection when there is nothing to send yet (returning 0, which MHD retries on resume).
    /// Called by MHD on the connection's thread.
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        readerCalls += 1
        let available = pending.count - pendingStart
        if available > 0 {
            let count = min(available, capacity)
            pending.withUnsafeBufferPointer { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + pendingStart,
                                                           byteCount: count)
            }
            pendingStart += count
            if pendingStart == pending.count {
                pending.removeAll(keepingCapacity: pending.capacity <= 256 * 1024)
                pendingStart = 0
            } else if pendingStart >= 64 * 1024 && pendingStart * 2 >= pending.count {
                pending.removeFirst(pendingStart)
                pendingStart = 0
            }
            return count
        }
        if finished || closed { return ro_mhd_content_reader_end_of_stream() }
        guard let connection, !suspended else { return 0 }
        suspended = true
        MHD_suspend_connection(connection)
        return 0
    }

    /// The connection is done with the stream (body sent, client gone, or server stopping):
    /// after this no producer can resume it.
    func detach() {
        lock.lock()
        connection = nil
        suspended = false
        closed = true
        pending = []
        pendingStart = 0
        let handlers = closeHandlers
        closeHandlers = []
        let detached = onDetach
        onDetach = nil
        lock.unlock()
        for handler in handlers { handler() }
        detached?()
    }

    /// Resumes the suspended connection so the reader runs again. Caller holds `lock`.
    private func wakeReaderLocked() {
        guard suspended, let connection else { return }
        suspended = false
        MHD_resume_connection(connection)
    }
}

extension ResponseStream: ShutdownParticipant {
    func shutDown() { finish() }
}
