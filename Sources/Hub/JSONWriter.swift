import Telemetry

/// Builds a JSON object by hand: used where a response embeds JSON stored in PostgreSQL
/// (golden records, provenance) verbatim, which Codable cannot do without re-parsing it.
struct JSONWriter {
    private(set) var text = "{"
    private var first = true

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += JSONText.quote(name) + ":"
    }

    mutating func string(_ name: String, _ value: String?) {
        key(name)
        text += value.map(JSONText.quote) ?? "null"
    }

    mutating func number<N: BinaryInteger>(_ name: String, _ value: N?) {
        key(name)
        text += value.map { String($0) } ?? "null"
    }

    /// A value that is already JSON text.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        text += "[" + values.map(JSONText.quote).joined(separator: ",") + "]"
    }

    /// An array of objects written by `element`.
    mutating func objects<T>(_ name: String, _ items: [T], _ element: (inout JSONWriter, T) -> Void) {
        key(name)
        text += "[" + items.map { item in
            var w = JSONWriter()
            element(&w, item)
            return w.json
        }.joined(separator: ",") + "]"
    }

    var json: String { text + "}" }
}
