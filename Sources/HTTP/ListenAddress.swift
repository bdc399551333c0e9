import Foundation

/// A socket address to listen on, resolved from a host name or literal and a port.
struct ListenAddress {
    let storage: sockaddr_storage
    let isIPv6: Bool
    /// True for the IPv6 wildcard `::`, which also accepts IPv4 (dual stack).
    let isIPv6Wildcard: Bool

    /// Resolves `host` (an IPv4 or IPv6 literal, or a name such as `localhost`) for listening.
    static func resolve(host: String, port: Int) throws -> ListenAddress {
        guard (0...65_535).contains(port) else {
            throw HTTPServerError(kind: .invalidPort, host: host, port: port, reason: "port must be 0...65535")
        }
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard !literal.isEmpty else {
            throw HTTPServerError(kind: .invalidHost, host: host, port: port, reason: "host is empty")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(literal, String(port), &hints, &result)
        guard status == 0, let first = result else {
            let reason = String(cString: gai_strerror(status))
            throw HTTPServerError(kind: .invalidHost, host: host, port: port,
                                  reason: "host does not resolve to a local address (\(reason))")
        }
        defer { freeaddrinfo(result) }
        // Prefer IPv4 when a name resolves to both (e.g. localhost), as clients usually try it.
        var chosen = first
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            if info.pointee.ai_family == AF_INET { chosen = info; break }
            candidate = info.pointee.ai_next
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: chosen.pointee.ai_addr,
                                                           count: Int(chosen.pointee.ai_addrlen)))
        }
        let isIPv6 = chosen.pointee.ai_family == AF_INET6
        var isWildcard = false
        if isIPv6 {
            withUnsafeBytes(of: &storage) { raw in
                let address = raw.load(as: sockaddr_in6.self).sin6_addr
                isWildcard = withUnsafeBytes(of: address) { $0.allSatisfy { $0 == 0 } }
            }
        }
        return ListenAddress(storage: storage, isIPv6: isIPv6, isIPv6Wildcard: isWildcard)
    }
}
