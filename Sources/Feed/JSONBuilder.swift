import Telemetry

/// Builds a JSON object as text, embedding JSON that is already serialized (records, sources)
/// verbatim. Used on the feed's hot path instead of Codable.
struct JSONBuilder {
    private(set) var text: String
    private var first = true

    init(capacity: Int = 256) {
        text = "{"
        text.reserveCapacity(capacity)
    }

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += "\""
        text += name
        text += "\":"
    }

    /// `name` must be a plain ASCII key (no escaping is done for keys).
    mutating func string(_ name: String, _ value: String?) {
        key(name)
        if let value { text += JSONText.quote(value) } else { text += "null" }
    }

    mutating func number<N: BinaryInteger>(_ name: String, _ value: N) {
        key(name)
        text += String(value)
    }

    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        text += "["
        for (i, v) in values.enumerated() {
            if i > 0 { text += "," }
            text += JSONText.quote(v)
        }
        text += "]"
    }

    var json: String { text + "}" }
}
