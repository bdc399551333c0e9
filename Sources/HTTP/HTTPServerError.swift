/// Why the HTTP server could not start; the description names the address and the cause.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The host is not an address this machine can listen on (or does not resolve).
        case invalidHost
        /// The port is outside 0...65535.
        case invalidPort
        /// libmicrohttpd refused to start (port in use, permission denied, ...).
        case startFailed
        /// `start()` was called on a running server.
        case alreadyRunning
    }

    public let kind: Kind
    public let host: String
    public let port: Int
    /// The underlying reason, as reported by the resolver or libmicrohttpd.
    public let reason: String

    public var description: String {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return "cannot listen on \(address): \(reason)"
    }
}
