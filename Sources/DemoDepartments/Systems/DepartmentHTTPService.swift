import Foundation
import HTTP
import Telemetry

/// The HTTP listener of a simulated department system: started on a port (0: any free one),
/// and able to go away and come back on the same port to simulate an outage with refused
/// connections.
public final class DepartmentHTTPService: @unchecked Sendable {
    private let lock = NSLock()
    private let host: String
    private var port: Int
    private let router: Router
    private let logger: Logger
    private var server: HTTPServer?

    init(host: String, port: Int, router: Router, logger: Logger) {
        self.host = host
        self.port = port
        self.router = router
        self.logger = logger
    }

    /// `http://host:port` once started.
    public var baseURL: String { lock.withLock { "http://\(host):\(port)" } }

    /// Whether connections are accepted now.
    public var isListening: Bool { lock.withLock { server != nil } }

    func start() throws {
        try lock.withLock {
            guard server == nil else { return }
            let server = HTTPServer(host: host, port: port, router: router, threads: 2, logger: logger)
            try server.start()
            port = server.boundPort
            self.server = server
        }
    }

    /// Stops listening: connections are refused until `resume()` (an outage).
    public func refuseConnections() {
        let running = lock.withLock { () -> HTTPServer? in
            defer { server = nil }
            return server
        }
        running?.stop(gracePeriod: 0.2)
    }

    /// Listens again on the same port after `refuseConnections()`.
    public func resume() throws { try start() }

    func stop() { refuseConnections() }
}

/// Reading the demo systems' time stamps back from query parameters and SOAP requests.
enum StampText {
    /// Parses `2026-11-22T19:30:12.345+08:00`, `... 19:30:12.345` (China time), with or without
    /// milliseconds, a `Z` or `+08:00` zone; a bare number is ms since 1970. nil when unreadable.
    static func milliseconds(_ text: String) -> Int64? {
        if let number = Int64(text) { return number }
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var n = 0
            for i in from..<(from + count) {
                let b = bytes[i]
                guard b >= 0x30 && b <= 0x39 else { return nil }
                n = n * 10 + Int(b - 0x30)
            }
            return n
        }
        guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
              let mi = number(14, 2), let s = number(17, 2) else { return nil }
        var i = 19
        var millis = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int(bytes[i] - 0x30) }
                digits += 1
                i += 1
            }
            for _ in min(digits, 3)..<3 { millis *= 10 }
        }
        var offsetMinutes = 8 * 60
        if i < bytes.count {
            if bytes[i] == UInt8(ascii: "Z") { offsetMinutes = 0 } else if bytes.count >= i + 6, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-"),
                let oh = number(i + 1, 2), let om = number(i + 4, 2) {
                offsetMinutes = (oh * 60 + om) * (bytes[i] == UInt8(ascii: "-") ? -1 : 1)
            } else { return nil }
        }
        let day = CalendarDay(year: y, month: mo, day: d).dayNumber
        return Int64(day) * 86_400_000 + Int64(h * 3_600_000 + mi * 60_000 + s * 1000 + millis) - Int64(offsetMinutes) * 60_000
    }
}
