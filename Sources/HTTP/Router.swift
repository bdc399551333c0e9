import Foundation

/// A handler for a fully received request.
public typealias Handler = @Sendable (Request) throws -> Response

/// One registered route: a method, a pattern with `{name}` segments, and its handler.
public struct Route: Sendable {
    /// The `route` label of requests that matched no route.
    public static let unmatched = "unmatched"

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public let method: HTTPMethod
    public let pattern: String
    /// The largest request body this route accepts, in bytes.
    public let bodyLimit: Int
    let segments: [Segment]
    let handler: Handler

    /// Whether this route's pattern is more specific than `other`'s: at the first segment where
    /// they differ in kind, a literal beats a parameter.
    func isMoreSpecific(than other: Route) -> Bool {
        for (a, b) in zip(segments, other.segments) {
            switch (a, b) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }

    /// The path parameters if the decoded `path` segments fit this pattern.
    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, value) in zip(segments, path) {
            switch segment {
            case .literal(let literal):
                guard value == literal else { return nil }
            case .parameter(let name):
                parameters[name] = value
            }
        }
        return parameters
    }
}

/// The routing table. Register routes before `HTTPServer.start()`; the server uses a snapshot
/// taken at start.
///
/// An unknown path is answered 404 (`not_found`); a known path with another method 405
/// (`method_not_allowed`) with an `Allow` header. `HEAD` falls back to the `GET` route.
public final class Router: @unchecked Sendable {
    /// The body limit of routes that do not set their own: 1 MiB.
    public static let standardBodyLimit = 1 << 20

    public let defaultBodyLimit: Int
    private let lock = NSLock()
    private var routes: [Route] = []
    private var fallback: (@Sendable (any Error) -> HTTPError?)?

    /// Answers for thrown errors that are not `HTTPError`s, when it returns one (otherwise 500
    /// "internal"). The hub answers a database that is down with 503 and Retry-After, so a sender
    /// knows to send its whole batch again later.
    public var errorTranslator: (@Sendable (any Error) -> HTTPError?)? {
        get { lock.withLock { fallback } }
        set { lock.withLock { fallback = newValue } }
    }

    public init(defaultBodyLimit: Int = Router.standardBodyLimit) {
        precondition(defaultBodyLimit >= 0, "body limit must not be negative")
        self.defaultBodyLimit = defaultBodyLimit
    }

    /// Registers `handler` for `method` on `pattern` (`/v1/resources/{resource}/{id}`); `bodyLimit`
    /// overrides the default body limit for this route.
    public func add(_ method: HTTPMethod, _ pattern: String, bodyLimit: Int? = nil,
                    handler: @escaping Handler) {
        let segments = Self.parse(pattern)
        let route = Route(method: method, pattern: pattern, bodyLimit: bodyLimit ?? defaultBodyLimit,
                          segments: segments, handler: handler)
        lock.withLock {
            precondition(!routes.contains { $0.method == method && $0.segments == segments },
                         "route \(method) \(pattern) is registered twice")
            routes.append(route)
        }
    }

    /// Every registered route's method and pattern, in registration order (for API documentation checks).
    public var registeredRoutes: [(method: HTTPMethod, pattern: String)] {
        lock.withLock { routes.map { ($0.method, $0.pattern) } }
    }

    /// The routes registered so far, as an immutable table.
    func table() -> RouteTable {
        lock.withLock { RouteTable(routes: routes, defaultBodyLimit: defaultBodyLimit) }
    }

    private static func parse(_ pattern: String) -> [Route.Segment] {
        precondition(pattern.hasPrefix("/"), "route pattern \(pattern) must start with /")
        return pattern.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") {
                let name = String(part.dropFirst().dropLast())
                precondition(!name.isEmpty, "route pattern \(pattern) has an empty {} segment")
                return .parameter(name)
            }
            return .literal(String(part))
        }
    }
}

/// The outcome of looking a request up in the routing table.
enum RouteMatch {
    case found(Route, parameters: [String: String])
    case methodNotAllowed(pattern: String, allowed: [HTTPMethod])
    case notFound
}

/// An immutable snapshot of a router's routes, read concurrently by the server's threads.
struct RouteTable: Sendable {
    let routes: [Route]
    let defaultBodyLimit: Int

    /// Finds the most specific route for `method` and the raw (still percent-encoded) path.
    func match(method: HTTPMethod, rawPath: Substring) -> RouteMatch {
        // Each segment is decoded on its own, so an encoded slash (%2F) stays inside it. A
        // malformed escape matches nothing.
        var segments: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = PercentDecoding.decode(raw) else { return .notFound }
            segments.append(decoded)
        }
        var best: (route: Route, parameters: [String: String])?
        var bestGet: (route: Route, parameters: [String: String])?
        var pathMatches: [Route] = []
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            pathMatches.append(route)
            if route.method == method {
                if best == nil || route.isMoreSpecific(than: best!.route) { best = (route, parameters) }
            } else if method == .HEAD && route.method == .GET {
                if bestGet == nil || route.isMoreSpecific(than: bestGet!.route) { bestGet = (route, parameters) }
            }
        }
        if let found = best ?? bestGet { return .found(found.route, parameters: found.parameters) }
        guard let first = pathMatches.first else { return .notFound }
        var allowed: [HTTPMethod] = []
        for route in pathMatches where !allowed.contains(route.method) { allowed.append(route.method) }
        if allowed.contains(.GET) && !allowed.contains(.HEAD) { allowed.append(.HEAD) }
        let pattern = pathMatches.first { $0.isMoreSpecific(than: first) }?.pattern ?? first.pattern
        return .methodNotAllowed(pattern: pattern, allowed: allowed)
    }
}
