import Telemetry

/// The server's Prometheus metrics: `http_requests_total{route,method,status}` and
/// `http_request_duration_seconds{route}` (time until the response is queued; for a stream,
/// until its headers are, not its whole life).
struct HTTPMetrics: Sendable {
    let requests: Counter
    let duration: Histogram

    init(registry: MetricsRegistry) {
        requests = registry.counter("http_requests_total", help: "HTTP requests answered, by route, method and status.",
                                    labels: ["route", "method", "status"])
        duration = registry.histogram("http_request_duration_seconds",
                                      help: "Time from request start until its response was queued, by route.",
                                      labels: ["route"])
    }

    /// Methods outside the standard set are counted as `other`, so clients cannot grow the label set.
    static func methodLabel(_ method: HTTPMethod) -> String {
        switch method {
        case .GET, .POST, .PUT, .PATCH, .DELETE, .HEAD, .OPTIONS: method.rawValue
        default: "other"
        }
    }

    func record(route: String, method: HTTPMethod, status: Int, seconds: Double) {
        requests.increment([route, Self.methodLabel(method), String(status)])
        duration.observe(seconds, [route])
    }
}
