import Foundation

/// Process-wide metrics in the Prometheus text exposition format (version 0.0.4).
///
/// Counters and histograms are keyed by label values; gauges are read from a closure at scrape time
/// so that they always show the current state (for example the database pool's use).
public final class MetricsRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var families: [String: Family] = [:]
    private var order: [String] = []

    public init() {}

    /// A counter family; `labels` names the label keys every observation gives values for.
    public func counter(_ name: String, help: String, labels: [String] = []) -> Counter {
        Counter(family: family(name, help: help, type: "counter", labels: labels, buckets: []))
    }

    /// A histogram family with the given upper bounds (a `+Inf` bucket is always added).
    public func histogram(_ name: String, help: String, labels: [String] = [],
                          buckets: [Double] = Histogram.defaultSeconds) -> Histogram {
        Histogram(family: family(name, help: help, type: "histogram", labels: labels, buckets: buckets.sorted()))
    }

    /// A gauge whose samples are read when /metrics is scraped.
    public func gauge(_ name: String, help: String, labels: [String] = [],
                      read: @escaping @Sendable () -> [(labelValues: [String], value: Double)]) {
        let f = family(name, help: help, type: "gauge", labels: labels, buckets: [])
        f.withLock { f.gaugeReader = read }
    }

    /// A counter whose samples are read when /metrics is scraped (totals kept elsewhere, such as
    /// in the database, that only grow).
    public func counter(_ name: String, help: String, labels: [String] = [],
                        read: @escaping @Sendable () -> [(labelValues: [String], value: Double)]) {
        let f = family(name, help: help, type: "counter", labels: labels, buckets: [])
        f.withLock { f.gaugeReader = read }
    }

    private func family(_ name: String, help: String, type: String, labels: [String], buckets: [Double]) -> Family {
        lock.lock()
        defer { lock.unlock() }
        if let existing = families[name] { return existing }
        let f = Family(name: name, help: help, type: type, labelNames: labels, buckets: buckets)
        families[name] = f
        order.append(name)
        return f
    }

    /// The whole registry as Prometheus text.
    public func render() -> String {
        lock.lock()
        let all = order.compactMap { families[$0] }
        lock.unlock()
        var out = ""
        for f in all { f.render(into: &out) }
        return out
    }
}

final class Family: @unchecked Sendable {
    let name: String
    let help: String
    let type: String
    let labelNames: [String]
    let buckets: [Double]
    private let lock = NSLock()
    var values: [[String]: Double] = [:]
    var histograms: [[String]: HistogramState] = [:]
    var gaugeReader: (@Sendable () -> [(labelValues: [String], value: Double)])?

    init(name: String, help: String, type: String, labelNames: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.buckets = buckets
    }

    func withLock<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func labelText(_ values: [String], extra: (String, String)? = nil) -> String {
        var pairs = zip(labelNames, values).map { "\($0.0)=\(JSONText.quote($0.1))" }
        if let extra { pairs.append("\(extra.0)=\"\(extra.1)\"") }
        return pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}"
    }

    func render(into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        let (values, histograms, reader) = withLock { (self.values, self.histograms, self.gaugeReader) }
        switch type {
        case "gauge":
            for sample in reader?() ?? [] {
                out += "\(name)\(labelText(sample.labelValues)) \(format(sample.value))\n"
            }
        case "histogram":
            for key in histograms.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let h = histograms[key]!
                var cumulative: UInt64 = 0
                for (i, bound) in buckets.enumerated() {
                    cumulative += h.counts[i]
                    out += "\(name)_bucket\(labelText(key, extra: ("le", format(bound)))) \(cumulative)\n"
                }
                out += "\(name)_bucket\(labelText(key, extra: ("le", "+Inf"))) \(h.count)\n"
                out += "\(name)_sum\(labelText(key)) \(format(h.sum))\n"
                out += "\(name)_count\(labelText(key)) \(h.count)\n"
            }
        default:
            for sample in reader?() ?? [] {
                out += "\(name)\(labelText(sample.labelValues)) \(format(sample.value))\n"
            }
            for key in values.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                out += "\(name)\(labelText(key)) \(format(values[key]!))\n"
            }
        }
    }

    private func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}

struct HistogramState {
    var counts: [UInt64]
    var sum: Double = 0
    var count: UInt64 = 0
}

/// A monotonically increasing count, per label values.
public struct Counter: Sendable {
    let family: Family

    public func increment(_ labelValues: [String] = [], by amount: Double = 1) {
        family.withLock { family.values[labelValues, default: 0] += amount }
    }

    /// The current value for these labels (tests and progress reports).
    public func value(_ labelValues: [String] = []) -> Double {
        family.withLock { family.values[labelValues] ?? 0 }
    }
}

/// A distribution of observations (durations in seconds, sizes), per label values.
public struct Histogram: Sendable {
    let family: Family

    /// Request-duration buckets from 1 ms to 10 s.
    public static let defaultSeconds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public func observe(_ value: Double, _ labelValues: [String] = []) {
        family.withLock {
            var state = family.histograms[labelValues] ?? HistogramState(counts: Array(repeating: 0, count: family.buckets.count))
            if let i = family.buckets.firstIndex(where: { value <= $0 }) { state.counts[i] += 1 }
            state.sum += value
            state.count += 1
            family.histograms[labelValues] = state
        }
    }

    /// How many observations were made for these labels.
    public func count(_ labelValues: [String] = []) -> UInt64 {
        family.withLock { family.histograms[labelValues]?.count ?? 0 }
    }
}
