import Testing
@testable import Telemetry

@Suite struct MetricsTests {
    @Test func counterAndHistogramRenderPrometheusText() {
        let registry = MetricsRegistry()
        let requests = registry.counter("http_requests_total", help: "HTTP requests.", labels: ["route", "status"])
        requests.increment(["/healthz", "200"])
        requests.increment(["/healthz", "200"])
        requests.increment(["unmatched", "404"])
        let duration = registry.histogram("http_request_duration_seconds", help: "Duration.", labels: ["route"], buckets: [0.01, 0.1])
        duration.observe(0.005, ["/healthz"])
        duration.observe(0.05, ["/healthz"])
        duration.observe(3, ["/healthz"])
        registry.gauge("db_pool_connections", help: "Pool.", labels: ["state"]) { [(["idle"], 3), (["in_use"], 1)] }
        let text = registry.render()
        #expect(text.contains("# TYPE http_requests_total counter"))
        #expect(text.contains("http_requests_total{route=\"/healthz\",status=\"200\"} 2"))
        #expect(text.contains("http_requests_total{route=\"unmatched\",status=\"404\"} 1"))
        #expect(text.contains("http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.01\"} 1"))
        #expect(text.contains("http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.1\"} 2"))
        #expect(text.contains("http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3"))
        #expect(text.contains("http_request_duration_seconds_count{route=\"/healthz\"} 3"))
        #expect(text.contains("db_pool_connections{state=\"idle\"} 3"))
    }

    @Test func labelValuesAreEscaped() {
        let registry = MetricsRegistry()
        registry.counter("c", help: "h", labels: ["l"]).increment(["a\"b\\c\nd"])
        #expect(registry.render().contains(#"c{l="a\"b\\c\nd"} 1"#))
    }

    @Test func jsonQuoteEscapesControlCharacters() {
        #expect(JSONText.quote("a\u{01}\"\n张") == "\"a\\u0001\\\"\\n张\"")
    }
}
