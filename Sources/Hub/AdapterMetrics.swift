import Adapters
import Foundation
import Telemetry

/// Adapter gauges for /metrics, read from the `adapters` table at scrape time (one query per
/// scrape, shared by the families; the figures are the cluster's, not only this process's).
final class AdapterMetrics: @unchecked Sendable {
    private let store: AdapterRunStore
    private let lock = NSLock()
    private var cached: (at: Date, statuses: [AdapterStatus])?

    init(store: AdapterRunStore) { self.store = store }

    func register(in metrics: MetricsRegistry) {
        metrics.gauge("recordonce_adapter_state", help: "1 for the state each adapter is in (running, paused, degraded, failing).",
                      labels: ["adapter", "state"]) { [self] in
            statuses().flatMap { s in AdapterState.allCases.map { ([s.id, $0.rawValue], s.state == $0 ? 1 : 0) } }
        }
        metrics.gauge("recordonce_adapter_records", help: "Records received from each adapter since registration, by outcome.",
                      labels: ["adapter", "outcome"]) { [self] in
            statuses().flatMap { s in
                [([s.id, "received"], Double(s.counts.records)), ([s.id, "accepted"], Double(s.counts.accepted)),
                 ([s.id, "unchanged"], Double(s.counts.unchanged)), ([s.id, "rejected"], Double(s.counts.rejected)),
                 ([s.id, "skipped"], Double(s.counts.skipped))]
            }
        }
        metrics.gauge("recordonce_adapter_lag_seconds", help: "Seconds since each adapter was last caught up (pull reached the end, or a push).",
                      labels: ["adapter"]) { [self] in
            statuses().compactMap { s in s.lagSeconds.map { ([s.id], $0) } }
        }
        metrics.gauge("recordonce_adapter_consecutive_failures", help: "Pull failures in a row per adapter (drives the backoff).",
                      labels: ["adapter"]) { [self] in
            statuses().map { ([$0.id], Double($0.failures)) }
        }
    }

    private func statuses() -> [AdapterStatus] {
        lock.lock()
        defer { lock.unlock() }
        if let cached, Date().timeIntervalSince(cached.at) < 1 { return cached.statuses }
        let statuses = (try? store.all()) ?? []
        cached = (Date(), statuses)
        return statuses
    }
}
