import Foundation

/// One SSE subscriber on a plain blocking socket, read on its own thread; remembers the
/// monotonic time each event id arrived.
final class BlockingSSEClient: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var events: [(position: Int64, at: UInt64)] = []
    private var last: Int64 = 0
    private var open = false
    private var stopped = false
    private var failure: String?

    /// Connects to the hub on 127.0.0.1:`port` and asks for the stream after `after`.
    init(port: Int, token: String, after: Int64) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkError("socket() failed: \(String(cString: strerror(errno)))") }
        var address = FeedSocket.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw BenchmarkError("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let request = SSEEventScanner.request(port: port, token: token, after: after)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            close(fd)
            throw BenchmarkError("cannot send the stream request")
        }
        last = after
    }

    deinit { close(fd) }

    /// Reads until `stop()` or the end of the stream (run this on its own thread).
    func readUntilStopped() {
        var scanner = SSEEventScanner()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [(position: Int64, at: UInt64)] = []
        while !lock.withLock({ stopped }) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                lock.withLock { failure = n == 0 ? "the hub closed the stream" : String(cString: strerror(errno)) }
                return
            }
            let now = DispatchTime.now().uptimeNanoseconds
            do {
                try buffer.withUnsafeBufferPointer { try scanner.consume($0.baseAddress!, n) { pending.append(($0, now)) } }
            } catch {
                lock.withLock { failure = String(describing: error) }
                return
            }
            lock.withLock {
                if scanner.status == 200 { open = true }
                events.append(contentsOf: pending)
                if let l = pending.last { last = l.position }
            }
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Waits until the stream's header arrived; throws if it failed or took longer than `timeout` s.
    func waitUntilOpen(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let (isOpen, failed) = lock.withLock { (open, failure) }
            if let failed { throw BenchmarkError("SSE subscriber: \(failed)") }
            if isOpen { return }
            usleep(10_000)
        }
        throw BenchmarkError("SSE subscriber: no answer within \(timeout) s")
    }

    /// Waits until the event at `position` (or a later one) arrived; false on timeout.
    func waitFor(position: Int64, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ last >= position }) { return true }
            usleep(10_000)
        }
        return false
    }

    func stop() { lock.withLock { stopped = true } }

    /// Every event received so far: its position and the monotonic time (ns) it was read.
    var received: [(position: Int64, at: UInt64)] { lock.withLock { events } }
    /// The last position received.
    var lastPosition: Int64 { lock.withLock { last } }
}

/// Socket helpers shared by the feed benchmarks' clients.
enum FeedSocket {
    /// 127.0.0.1:`port` as a socket address.
    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
