import CSystem
import Foundation

/// Many SSE subscribers on non-blocking sockets, driven by one thread with epoll: opens them in
/// waves (so the hub's listen backlog is not overrun), then records every event id each one
/// receives, packed as (offset after `after`) << 32 | microseconds since `startNanoseconds`.
final class EpollSSEClients {
    private enum Phase { case connecting, requested, open, closed }
    private struct Connection {
        var phase = Phase.closed
        var scanner = SSEEventScanner()
        var last: Int64 = 0
        /// Which token (subscription) the stream uses.
        var group = 0
    }

    let port: Int
    let after: Int64
    private let requests: [[UInt8]]
    private var nextGroup = 0
    /// Open streams per token (subscription), in the order of the tokens.
    private(set) var openPerGroup: [Int]
    /// When the last bytes arrived on any stream.
    private(set) var lastReceivedNanoseconds: UInt64 = 0
    private let epoll: Int32
    private var connections: [Connection]
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var inFlight = 0
    private(set) var openCount = 0
    private(set) var closedDuringRun = 0
    /// Why connections failed, with how many failed that way.
    private(set) var failures: [String: Int] = [:]
    /// Every delivery: offset of the event after `after` << 32 | µs since `startNanoseconds`.
    private(set) var samples: [UInt64] = []
    let startNanoseconds = DispatchTime.now().uptimeNanoseconds

    /// Streams are spread over `tokens` in turn (stream i uses token i mod count).
    init(port: Int, tokens: [String], after: Int64) throws {
        self.port = port
        self.after = after
        requests = tokens.map { SSEEventScanner.request(port: port, token: $0, after: after) }
        openPerGroup = Array(repeating: 0, count: tokens.count)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw BenchmarkError("epoll_create1 failed: \(String(cString: strerror(errno)))") }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        connections = Array(repeating: Connection(), count: Int(min(limit.rlim_cur, 1 << 20)))
    }

    deinit {
        for fd in connections.indices where connections[fd].phase != .closed { close(Int32(fd)) }
        close(epoll)
    }

    var failureSummary: String { failures.map { "\($0.value) \($0.key)" }.sorted().joined(separator: ", ") }

    /// Opens `count` streams, at most 256 handshakes at a time; returns when each one is open or
    /// failed, or after `timeout` seconds.
    func open(count: Int, timeout: Double) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        var started = 0
        while (started < count || inFlight > 0) && DispatchTime.now().uptimeNanoseconds < deadline {
            while started < count && inFlight < 256 {
                started += 1
                connectOne()
            }
            poll(timeoutMilliseconds: 100)
        }
    }

    /// Reads events until `done()` is true and every open stream has reached `finalPosition()`,
    /// or `drainTimeout` seconds after `done()` became true.
    /// With several tokens (subscriptions that see different events) a stream's last event is
    /// not known here: then it stops once nothing arrived for `quietSeconds` after `done()`.
    func receive(until done: () -> Bool, base: Int64, finalPosition: () -> Int64, drainTimeout: Double,
                 quietSeconds: Double = 3) {
        var drainDeadline: UInt64?
        while true {
            poll(timeoutMilliseconds: 50)
            if drainDeadline == nil, done() { drainDeadline = DispatchTime.now().uptimeNanoseconds + UInt64(drainTimeout * 1e9) }
            guard let deadline = drainDeadline else { continue }
            let now = DispatchTime.now().uptimeNanoseconds
            if requests.count > 1 {
                if now > lastReceivedNanoseconds + UInt64(quietSeconds * 1e9) || now > deadline { return }
                continue
            }
            let final = finalPosition()
            let behind = connections.contains { $0.phase == .open && $0.last < final }
            if !behind || now > deadline { return }
        }
    }

    private func connectOne() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return fail(nil, "socket: " + String(cString: strerror(errno))) }
        guard Int(fd) < connections.count else { close(fd); return fail(nil, "descriptor beyond the open-file limit") }
        var address = FeedSocket.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else { close(fd); return fail(nil, "connect: " + String(cString: strerror(errno))) }
        connections[Int(fd)] = Connection(phase: .connecting, last: after, group: nextGroup)
        nextGroup = (nextGroup + 1) % requests.count
        inFlight += 1
        var event = epoll_event()
        event.events = EPOLLOUT.rawValue | EPOLLIN.rawValue
        event.data.fd = fd
        epoll_ctl(epoll, Int32(EPOLL_CTL_ADD), fd, &event)
    }

    private func fail(_ fd: Int32?, _ reason: String) {
        failures[reason, default: 0] += 1
        guard let fd else { return }
        let phase = connections[Int(fd)].phase
        if phase == .connecting || phase == .requested { inFlight -= 1 }
        if phase == .open { openCount -= 1; closedDuringRun += 1; openPerGroup[connections[Int(fd)].group] -= 1 }
        connections[Int(fd)].phase = .closed
        epoll_ctl(epoll, Int32(EPOLL_CTL_DEL), fd, nil)
        close(fd)
    }

    private func poll(timeoutMilliseconds: Int32) {
        var events = [epoll_event](repeating: epoll_event(), count: 1024)
        let n = epoll_wait(epoll, &events, Int32(events.count), timeoutMilliseconds)
        guard n > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        for i in 0..<Int(n) {
            let fd = events[i].data.fd
            let flags = events[i].events
            switch connections[Int(fd)].phase {
            case .connecting:
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                guard error == 0, flags & EPOLLERR.rawValue == 0 else { fail(fd, "connect: " + String(cString: strerror(error))); continue }
                let request = requests[connections[Int(fd)].group]
                let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent == request.count else { fail(fd, "request not sent"); continue }
                connections[Int(fd)].phase = .requested
                var event = epoll_event()
                event.events = EPOLLIN.rawValue
                event.data.fd = fd
                epoll_ctl(epoll, Int32(EPOLL_CTL_MOD), fd, &event)
            case .requested, .open:
                read(fd, now: now)
            case .closed:
                continue
            }
        }
    }

    private func read(_ fd: Int32, now: UInt64) {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
        guard n > 0 else { return fail(fd, n == 0 ? "closed by the hub" : "recv: " + String(cString: strerror(errno))) }
        let micros = (now - startNanoseconds) / 1000
        lastReceivedNanoseconds = now
        let base = after
        var last = connections[Int(fd)].last
        do {
            try buffer.withUnsafeBufferPointer { bytes in
                try connections[Int(fd)].scanner.consume(bytes.baseAddress!, n) { position in
                    samples.append(UInt64(position - base) << 32 | micros)
                    last = position
                }
            }
        } catch {
            return fail(fd, String(describing: error))
        }
        connections[Int(fd)].last = last
        if connections[Int(fd)].phase == .requested && connections[Int(fd)].scanner.status == 200 {
            connections[Int(fd)].phase = .open
            inFlight -= 1
            openCount += 1
            openPerGroup[connections[Int(fd)].group] += 1
        }
    }
}
