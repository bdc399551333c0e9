import CSystem
import Foundation

/// Sends the bytes a direct stream's socket did not take at once, when the socket can take more.
///
/// A `ResponseStream` made with `writesDirectly` sends each write straight to its connection's
/// socket from the producer's thread (no copy into a buffer, no resume of the suspended
/// connection, no trip through the server's thread). When the socket's send buffer is full, the
/// rest waits in the stream and the stream registers its socket here: one thread for the whole
/// process waits in epoll until the socket is writable again and flushes it. A stream that was
/// finished while bytes were waiting is ended when they are sent, or failed when the client has
/// not taken them within `drainTimeout`.
final class StreamSocketWriter: @unchecked Sendable {
    static let shared = StreamSocketWriter()

    /// Seconds a finished stream may take to drain before its connection is cut (a client that
    /// stopped reading must not hold the connection for ever).
    static let drainTimeout: Double = 60

    private let lock = NSLock()
    private let epoll: Int32
    private var waiting: [UInt64: ResponseStream] = [:]
    private var draining: [UInt64: (ResponseStream, UInt64)] = [:]
    private var nextKey: UInt64 = 0

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "recordonce.stream-writer"
        thread.start()
    }

    /// A key for a stream's registrations (unique for the life of the process).
    func makeKey() -> UInt64 {
        lock.withLock {
            nextKey += 1
            return nextKey
        }
    }

    /// Watches `socket` until it is writable, then calls `stream.flushDirect()`. Caller holds the
    /// stream's lock; the socket stays registered until `unregister`.
    func register(_ stream: ResponseStream, key: UInt64, socket: Int32) -> Bool {
        lock.withLock { waiting[key] = stream }
        var event = epoll_event()
        event.events = EPOLLOUT.rawValue | EPOLLET.rawValue
        event.data.u64 = key
        if epoll_ctl(epoll, Int32(EPOLL_CTL_ADD), socket, &event) != 0 {
            lock.withLock { _ = waiting.removeValue(forKey: key) }
            return false
        }
        return true
    }

    /// Stops watching `socket` (before the stream lets its connection go, so a reused descriptor
    /// is never written to). Caller holds the stream's lock.
    func unregister(key: UInt64, socket: Int32) {
        epoll_ctl(epoll, Int32(EPOLL_CTL_DEL), socket, nil)
        lock.withLock {
            _ = waiting.removeValue(forKey: key)
            _ = draining.removeValue(forKey: key)
        }
    }

    /// Remembers that a finished stream is draining; it is failed if still draining after the timeout.
    func noteDraining(_ stream: ResponseStream, key: UInt64) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(Self.drainTimeout * 1e9)
        lock.withLock { draining[key] = (stream, deadline) }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let n = epoll_wait(epoll, &events, Int32(events.count), 1000)
            if n > 0 {
                for i in 0..<Int(n) {
                    let key = events[i].data.u64
                    guard let stream = lock.withLock({ waiting[key] }) else { continue }
                    stream.flushDirect()
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            let overdue = lock.withLock { draining.values.filter { $0.1 <= now }.map(\.0) }
            for stream in overdue { stream.abandonDirect() }
        }
    }
}
